/**
 * A reader of Thrift's compact protocol (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md),
 * the encoding of Parquet's footer and page headers. A struct decodes to `{ [fieldId]: value }`: integers
 * as numbers (exact below 2^53, which covers every size and offset of a file), binary as a view into the
 * input, lists as arrays, structs as nested objects.
 */

export type ThriftStruct = { [field: number]: unknown };

export class ThriftReader {
  pos: number;

  constructor(readonly buf: Uint8Array, pos = 0) {
    this.pos = pos;
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error(`thrift: read past the end (${this.buf.length} bytes)`);
    return this.buf[this.pos++];
  }

  private varint(): number {
    let out = 0;
    let mul = 1;
    for (;;) {
      const b = this.byte();
      out += (b & 0x7f) * mul;
      if (b < 0x80) return out;
      mul *= 128;
    }
  }

  private zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }

  private value(type: number): unknown {
    switch (type) {
      case 1: return true;
      case 2: return false;
      case 3: { const b = this.byte(); return b > 127 ? b - 256 : b; }
      case 4: case 5: case 6: return this.zigzag();
      case 7: {
        if (this.pos + 8 > this.buf.length) throw new Error('thrift: read past the end');
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case 8: {
        const n = this.varint();
        if (this.pos + n > this.buf.length) throw new Error('thrift: read past the end');
        const v = this.buf.subarray(this.pos, this.pos + n);
        this.pos += n;
        return v;
      }
      case 9: case 10: {
        const h = this.byte();
        const n = h >> 4 === 15 ? this.varint() : h >> 4;
        const elem = h & 15;
        const out: unknown[] = [];
        // Booleans inside a list are one byte each (1 = true).
        for (let i = 0; i < n; i++) out.push(elem === 1 || elem === 2 ? this.byte() === 1 : this.value(elem));
        return out;
      }
      case 11: {
        const n = this.varint();
        if (n === 0) return new Map();
        const kv = this.byte();
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) m.set(this.value(kv >> 4), this.value(kv & 15));
        return m;
      }
      case 12: return this.struct();
      default: throw new Error(`thrift: unknown compact type ${type} at byte ${this.pos}`);
    }
  }

  /** Reads one struct (up to and including its stop field). */
  struct(): ThriftStruct {
    const out: ThriftStruct = {};
    let id = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return out;
      const delta = h >> 4;
      id = delta ? id + delta : this.zigzag();
      out[id] = this.value(h & 15);
    }
  }
}

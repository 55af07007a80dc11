/** An RGB pixel buffer with the few drawing operations the envs need (rectangles, copies). */
export type Rgb = readonly [number, number, number];

export function hex(s: string): Rgb {
  const n = parseInt(s.replace('#', ''), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export class Canvas {
  /** [height, width, 3] uint8, row-major */
  readonly data: Uint8Array;

  constructor(readonly width: number, readonly height: number, fill: Rgb = [255, 255, 255]) {
    this.data = new Uint8Array(width * height * 3);
    this.fillRect(0, 0, width, height, fill);
  }

  /** Fills [x, x+w) × [y, y+h), clipped to the canvas. */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    const x0 = Math.max(0, x), x1 = Math.min(this.width, x + w);
    const y0 = Math.max(0, y), y1 = Math.min(this.height, y + h);
    if (x0 >= x1 || y0 >= y1) return;
    const d = this.data;
    const row = (x1 - x0) * 3;
    // fill the first row, then copy it
    const first = (y0 * this.width + x0) * 3;
    for (let i = 0; i < row; i += 3) { d[first + i] = color[0]; d[first + i + 1] = color[1]; d[first + i + 2] = color[2]; }
    for (let yy = y0 + 1; yy < y1; yy++) d.copyWithin((yy * this.width + x0) * 3, first, first + row);
  }

  /** Copies all of `src` with its top-left at (x, y), clipped. */
  blit(src: Canvas, x: number, y: number): void {
    for (let sy = 0; sy < src.height; sy++) {
      const ty = y + sy;
      if (ty < 0 || ty >= this.height) continue;
      const sx0 = Math.max(0, -x), sx1 = Math.min(src.width, this.width - x);
      if (sx0 >= sx1) continue;
      const s = (sy * src.width + sx0) * 3;
      this.data.set(src.data.subarray(s, s + (sx1 - sx0) * 3), (ty * this.width + x + sx0) * 3);
    }
  }

  /** Copies the pixels of `src` (a whole canvas) over this one; both must have the same size. */
  copyFrom(src: Canvas): void {
    this.data.set(src.data);
  }

  pixel(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 3;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }
}

/**
 * The typed graph builder: symbolic tensors with dtype and shape, graph inputs, parameters (trainable or
 * frozen, with initial values), constants, and nodes that apply an {@link OpDef}.
 *
 * Shapes may hold named dims ('batch', 'seq'); a name means the same size everywhere in one graph, and its
 * run-time value is read from the first graph input that declares it. Sums and products of named dims are
 * written 'a+b' and 'a*b' (flattening [batch, seq, d] to [-1, d] gives ['batch*seq', d]; concatenating a
 * cache [b, h, past, dh] with [b, h, seq, dh] on axis 2 gives [b, h, 'past+seq', dh]).
 */
import { DTYPES, type DType, type Dim, type HostTensor, formatShape, hostTensor, numel } from './dtype.ts';
import type { EmitCtx } from './emit.ts';

export type Attrs = Record<string, unknown>;

/** One op: its output types, its ONNX emission and its gradient rule, side by side. */
export interface OpDef<A extends Attrs = any> {
  name: string;
  infer(inputs: Tensor[], attrs: A): { dtype: DType; shape: Dim[] }[];
  emit(e: EmitCtx, inputs: string[], outputs: string[], attrs: A, node: Node<A>): void;
  /**
   * Gradients of the inputs given gradients of the outputs (null where an output has no gradient), built
   * from ops of the same graph. 'none' for ops whose outputs carry no gradient (int results, shapes).
   */
  grad: ((node: Node<A>, dys: (Tensor | null)[]) => (Tensor | null)[]) | 'none';
}

export interface Node<A extends Attrs = Attrs> {
  op: OpDef<A>;
  inputs: Tensor[];
  attrs: A;
  outputs: Tensor[];
  /**
   * What made the node when it is not a forward op of the model: '<Op>.grad' for the nodes of an op's
   * gradient rule, 'optimizer' for the update. Emitted into the ONNX node names, so that onnxruntime's
   * profile attributes time to ops, their gradients and the optimizer (tools/engine-profile.ts).
   */
  scope?: string;
}

export type TensorKind = 'input' | 'param' | 'const' | 'node';

export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly kind: TensorKind,
    readonly dtype: DType,
    readonly shape: Dim[],
    /** Inputs and params: their name. */
    readonly name?: string,
    /** Node outputs: the producing node and output index. */
    readonly node?: Node,
    readonly index = 0,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.name ?? `t${this.id}`}: ${this.dtype}${formatShape(this.shape)}`;
  }
}

export interface Param {
  tensor: Tensor;
  value: HostTensor;
  trainable: boolean;
  /** AdamW applies weight decay to this param (default: rank >= 2, i.e. matrices, not biases or norms). */
  decay: boolean;
}

export interface ParamOptions {
  trainable?: boolean;
  decay?: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly params = new Map<string, Param>();
  readonly consts = new Map<Tensor, HostTensor>();
  private nextId = 0;
  private scope?: string;

  /** Runs `f` with `label` as the {@link Node.scope} of the nodes it adds (the innermost label wins). */
  within<R>(label: string, f: () => R): R {
    const outer = this.scope;
    this.scope = label;
    try {
      return f();
    } finally {
      this.scope = outer;
    }
  }

  private claim(name: string, what: string): void {
    if (!NAME.test(name)) throw new Error(`${what} name ${JSON.stringify(name)}: expected letters, digits, _ . : / -`);
    if (this.params.has(name) || this.inputs.some((t) => t.name === name)) {
      throw new Error(`${what} name ${JSON.stringify(name)} is already used in this graph`);
    }
  }

  /** A graph input (a batch field, a KV cache, a learning rate). */
  input(name: string, dtype: DType, shape: Dim[]): Tensor {
    this.claim(name, 'input');
    const t = new Tensor(this, this.nextId++, 'input', dtype, [...shape], name);
    this.inputs.push(t);
    return t;
  }

  /** A parameter with its initial value; trainable unless `{ trainable: false }` (then an ONNX initializer). */
  param(name: string, value: HostTensor, opts: ParamOptions = {}): Tensor {
    this.claim(name, 'param');
    const t = new Tensor(this, this.nextId++, 'param', value.dtype, [...value.shape], name);
    this.params.set(name, {
      tensor: t,
      value,
      trainable: opts.trainable ?? true,
      decay: opts.decay ?? value.shape.length >= 2,
    });
    return t;
  }

  constant(value: HostTensor): Tensor {
    const t = new Tensor(this, this.nextId++, 'const', value.dtype, [...value.shape]);
    this.consts.set(t, value);
    return t;
  }

  scalar(v: number, dtype: DType = 'float32'): Tensor {
    return this.constant(hostTensor(dtype, [], [v]));
  }

  apply<A extends Attrs>(op: OpDef<A>, inputs: Tensor[], attrs: A): Tensor[] {
    for (const x of inputs) {
      if (x.graph !== this) throw new Error(`${op.name}: input ${x} belongs to another graph`);
    }
    const types = op.infer(inputs, attrs);
    const node: Node<A> = { op, inputs, attrs, outputs: [], ...(this.scope ? { scope: this.scope } : {}) };
    node.outputs = types.map((ty, i) => new Tensor(this, this.nextId++, 'node', ty.dtype, ty.shape, undefined, node as Node, i));
    this.nodes.push(node as Node);
    return node.outputs;
  }

  /** Where each named dim can be read at run time: the first input declaring it, and the axis. */
  dimSource(name: string): { input: Tensor; axis: number } | undefined {
    for (const t of this.inputs) {
      const axis = t.shape.indexOf(name);
      if (axis >= 0) return { input: t, axis };
    }
    return undefined;
  }

  trainableParams(): Param[] {
    return [...this.params.values()].filter((p) => p.trainable);
  }

  /** Replaces param values (e.g. from a checkpoint); dtype and shape must match. */
  setParamValues(values: Record<string, HostTensor>): void {
    for (const [name, v] of Object.entries(values)) {
      const p = this.params.get(name);
      if (!p) throw new Error(`setParamValues: no param ${JSON.stringify(name)} in this graph (params: ${[...this.params.keys()].join(', ')})`);
      if (v.dtype !== p.value.dtype || formatShape(v.shape) !== formatShape(p.value.shape)) {
        throw new Error(`setParamValues: ${name}: expected ${p.value.dtype}${formatShape(p.value.shape)}, got ${v.dtype}${formatShape(v.shape)}`);
      }
      if (v.data.length !== numel(v.shape) || !(v.data instanceof DTYPES[v.dtype].array)) {
        throw new Error(`setParamValues: ${name}: data does not match ${v.dtype}${formatShape(v.shape)}`);
      }
      p.value = v;
    }
  }
}

// ---- symbolic dims ----

/** Splits at `sep` outside parentheses. */
export function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === sep && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

function factors(d: Dim): { n: number; syms: string[] } {
  if (typeof d === 'number') return { n: d, syms: [] };
  let n = 1;
  const syms: string[] = [];
  for (const f of splitTop(d, '*')) {
    if (/^\d+$/.test(f)) n *= Number(f);
    else syms.push(splitTop(f, '+').length > 1 ? `(${f})` : f);
  }
  return { n, syms };
}

/** The product of dims, canonical ('a*b*12' style, sorted) when symbolic. */
export function dimProduct(ds: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of ds) {
    const f = factors(d);
    n *= f.n;
    syms.push(...f.syms);
  }
  if (syms.length === 0) return n;
  syms.sort();
  return n === 1 ? syms.join('*') : [...syms, String(n)].join('*');
}

/** a / b when b divides a symbolically (numbers divide, named factors cancel), else undefined. */
export function dimQuotient(a: Dim, b: Dim): Dim | undefined {
  const fa = factors(a);
  const fb = factors(b);
  if (fb.n === 0 || fa.n % fb.n !== 0) return undefined;
  const syms = [...fa.syms];
  for (const s of fb.syms) {
    const i = syms.indexOf(s);
    if (i < 0) return undefined;
    syms.splice(i, 1);
  }
  return dimProduct([fa.n / fb.n, ...syms]);
}

export function sameDim(a: Dim, b: Dim): boolean {
  return dimProduct([a]) === dimProduct([b]);
}

export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

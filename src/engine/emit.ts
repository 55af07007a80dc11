/**
 * Lowering of a {@link Graph} to an ONNX GraphProto: only the nodes that the requested outputs need, each
 * op's `emit` writing its ONNX nodes, helper constants as initializers, named dims read with Shape.
 */
import { DTYPES, type DType, type Dim, type HostTensor, hostTensor, tensorBytes } from './dtype.ts';
import { type Graph, type Tensor, splitTop } from './graph.ts';
import { scaleFolds } from './fold.ts';
import type { AttrValue, GraphProto, NodeProto, TensorProto, ValueInfo } from './onnx.ts';

export interface EmitCtx {
  node(opType: string, inputs: string[], outputs: string[], attrs?: Record<string, AttrValue>): void;
  /** A fresh value name. */
  tmp(): string;
  /** A constant int64 tensor (1-D unless `shape` says otherwise), shared between uses. */
  i64(values: number[], shape?: number[]): string;
  /** A constant scalar of `dtype`. */
  scalar(v: number, dtype: DType): string;
  /** A [1] int64 tensor holding the run-time value of `d`. */
  dim(d: Dim): string;
  /** A [rank] int64 tensor holding the run-time shape `dims`. */
  shape(dims: readonly Dim[]): string;
}

export interface LowerSpec {
  name: string;
  outputs: [string, Tensor][];
  /** Graph inputs, in order (inputs and params that are fed at run time). */
  inputs: Tensor[];
  /** Params written as initializers. */
  initializers: Tensor[];
  /** Values named from outside this graph (a Loop body's inputs, outer-scope values, prologue outputs). */
  bound?: Map<Tensor, string>;
  prologue?: NodeProto[];
  extraInputs?: ValueInfo[];
  /** Outputs that are not graph tensors (a Loop's condition), emitted first. */
  extraOutputs?: ValueInfo[];
}

export function tensorProto(name: string, v: HostTensor): TensorProto {
  return { kind: 'tensor', name, dtype: v.dtype, dims: v.shape, raw: tensorBytes(v) };
}

/** Lowers the part of `g` that `spec.outputs` need. */
export function lower(g: Graph, spec: LowerSpec): GraphProto {
  const names = new Map<Tensor, string>(spec.bound ?? []);
  const nodes: NodeProto[] = [...(spec.prologue ?? [])];
  const inits: TensorProto[] = [];
  const constCache = new Map<string, string>();
  const dimCache = new Map<string, string>();
  let tmpId = 0;
  const tmp = () => `${spec.name}_v${tmpId++}`;

  for (const t of spec.inputs) names.set(t, t.name!);
  for (const t of spec.initializers) {
    names.set(t, t.name!);
    inits.push(tensorProto(t.name!, g.params.get(t.name!)!.value));
  }

  const constant = (key: string, v: HostTensor): string => {
    let n = constCache.get(key);
    if (!n) {
      n = tmp();
      constCache.set(key, n);
      inits.push(tensorProto(n, v));
    }
    return n;
  };

  let source: string | undefined; // the graph node being emitted: names its ONNX nodes
  const ctx: EmitCtx = {
    node(opType, inputs, outputs, attrs) {
      nodes.push({ opType, inputs, outputs, attrs, ...(source ? { source } : {}) });
    },
    tmp,
    i64(values, shape = [values.length]) {
      return constant(`i64:${shape}:${values}`, hostTensor('int64', shape, values));
    },
    scalar(v, dtype) {
      return constant(`${dtype}:${Object.is(v, -0) ? '-0' : v}`, hostTensor(dtype, [], [v]));
    },
    dim(d) {
      if (typeof d === 'number') return ctx.i64([d]);
      const key = String(d);
      const hit = dimCache.get(key);
      if (hit) return hit;
      const terms = splitTop(key, '+');
      const parts = splitTop(key, '*');
      const atom = (x: string) => ctx.dim(/^\d+$/.test(x) ? Number(x) : x.startsWith('(') && x.endsWith(')') ? x.slice(1, -1) : x);
      const fold = (xs: string[], op: string) =>
        xs.map(atom).reduce((l, r) => {
          const o = tmp();
          ctx.node(op, [l, r], [o]);
          return o;
        });
      let out: string;
      if (terms.length > 1) out = fold(terms, 'Add');
      else if (parts.length > 1) out = fold(parts, 'Mul');
      else if (key.startsWith('(') && key.endsWith(')')) out = ctx.dim(key.slice(1, -1));
      else {
        const src = g.dimSource(key);
        if (!src) throw new Error(`dim ${JSON.stringify(key)}: no graph input declares it, so its size is unknown at run time`);
        out = tmp();
        ctx.node('Shape', [nameOf(src.input)], [out], { start: src.axis, end: src.axis + 1 });
      }
      dimCache.set(key, out);
      return out;
    },
    shape(dims) {
      if (dims.every((d) => typeof d === 'number')) return ctx.i64(dims as number[]);
      if (dims.length === 0) return ctx.i64([]);
      const o = tmp();
      ctx.node('Concat', dims.map((d) => ctx.dim(d)), [o], { axis: 0 });
      return o;
    },
  };

  function nameOf(t: Tensor): string {
    const n = names.get(t);
    if (n !== undefined) return n;
    if (t.kind === 'const') {
      const c = `${spec.name}_c${t.id}`;
      names.set(t, c);
      inits.push(tensorProto(c, g.consts.get(t)!));
      return c;
    }
    if (t.kind === 'param') {
      throw new Error(`param ${t.name} is needed by the outputs but is neither a graph input nor an initializer here`);
    }
    if (t.kind === 'input') throw new Error(`input ${t.name} is needed by the outputs but was not listed as a graph input`);
    throw new Error(`internal: tensor t${t.id} used before it was emitted`);
  }

  // live nodes: those the outputs depend on
  const live = new Set<object>();
  const stack = spec.outputs.map(([, t]) => t);
  while (stack.length) {
    const t = stack.pop()!;
    if (names.has(t) || !t.node || live.has(t.node)) continue;
    live.add(t.node);
    stack.push(...t.node.inputs);
  }

  // outputs produced by nodes take the output's name directly (no Identity copy)
  const outNames = new Map<Tensor, string>();
  for (const [n, t] of spec.outputs) if (t.kind === 'node' && !outNames.has(t) && !names.has(t)) outNames.set(t, n);

  const folds = scaleFolds(g, live, new Set(spec.outputs.map(([, t]) => t)));

  for (const node of g.nodes) {
    if (!live.has(node)) continue;
    const aliased = folds.alias.get(node);
    if (aliased) {
      names.set(node.outputs[0], nameOf(aliased));
      continue;
    }
    source = node.scope ?? node.op.name;
    const ins = node.inputs.map(nameOf);
    const outs = node.outputs.map((t) => {
      const n = outNames.get(t) ?? `${spec.name}_t${t.id}`;
      names.set(t, n);
      return n;
    });
    const scaled = folds.gemm.get(node);
    if (scaled) {
      const attrs = { ...node.attrs, alpha: ((node.attrs.alpha as number | undefined) ?? 1) * scaled.ab * scaled.out };
      if (ins[2] && scaled.out !== 1) {
        const c = tmp();
        ctx.node('Mul', [ins[2], ctx.scalar(scaled.out, node.inputs[2].dtype)], [c]);
        ins[2] = c;
      }
      node.op.emit(ctx, ins, outs, attrs, node);
    } else if (folds.post.has(node)) {
      const raw = outs.map(() => tmp());
      node.op.emit(ctx, ins, raw, node.attrs, node);
      raw.forEach((r, i) => ctx.node('Mul', [r, ctx.scalar(folds.post.get(node)!, node.outputs[i].dtype)], [outs[i]]));
    } else node.op.emit(ctx, ins, outs, node.attrs, node);
  }

  const outputs: ValueInfo[] = [];
  outputs.push(...(spec.extraOutputs ?? []));
  for (const [n, t] of spec.outputs) {
    const have = nameOf(t);
    if (have !== n) nodes.push({ opType: 'Identity', inputs: [have], outputs: [n] });
    outputs.push({ name: n, dtype: t.dtype, shape: t.shape });
  }
  return {
    kind: 'graph',
    name: spec.name,
    nodes,
    initializers: inits,
    inputs: [...(spec.extraInputs ?? []), ...spec.inputs.map((t) => ({ name: t.name!, dtype: t.dtype, shape: t.shape }))],
    outputs,
  };
}

export function onnxDType(d: DType): number {
  return DTYPES[d].onnx;
}

/**
 * Finite-difference check of every op's gradient rule, table-driven over ALL_OPS: an op with a gradient
 * rule and no entry in CASES fails the test, and so does an op declared without gradient that is missing
 * from NO_GRAD.
 *
 * Each case builds the op on float64 inputs (graph inputs, so they can be perturbed), takes
 * L = sum_i sum(out_i * w_i) with fixed random weights, and compares dL/dinput from the autodiff graph
 * with central differences (eps 1e-6): |analytic - numeric| <= 1e-6 + 1e-5 |numeric|.
 * Erf and LayerNormalization have no float64 kernel in onnxruntime's CPU provider, and Cast is checked from
 * a float32 input: those use float32 with eps 3e-3 and |analytic - numeric| <= 1e-3 + 1e-2 |numeric|.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DType, Graph, type HostTensor, type Runner, type Tensor, buildInference, cast, gelu, gradients, hostTensor, linear, mul, openRunner, sumAll, add,
} from '../../src/engine/index.ts';
import { scaleFolds } from '../../src/engine/fold.ts';
import type { OpDef } from '../../src/engine/graph.ts';
import { ALL_OPS } from '../../src/engine/ops/index.ts';
import * as at from '../../src/engine/ops/attention.ts';
import * as el from '../../src/engine/ops/elementwise.ts';
import * as mm from '../../src/engine/ops/matmul.ts';
import * as rd from '../../src/engine/ops/reduce.ts';
import * as sh from '../../src/engine/ops/shape.ts';
import { Rng } from '../../src/util/rng.ts';

interface Case {
  g: Graph;
  values: Map<Tensor, HostTensor>;
  outs: Tensor[];
  /** float32 inputs: checked with eps 3e-3 and |analytic - numeric| <= 1e-3 + 1e-2 |numeric|. */
  f32?: boolean;
}

/** Builds a case: `inp(name, shape)` declares a perturbable float64 input. */
function make(build: (inp: (shape: number[], o?: { lo?: number; hi?: number; dtype?: DType; dims?: (string | number)[] }) => Tensor, g: Graph) => Tensor | Tensor[], f32 = false): Case {
  const g = new Graph();
  const rng = new Rng(1);
  const values = new Map<Tensor, HostTensor>();
  let k = 0;
  const inp = (shape: number[], o: { lo?: number; hi?: number; dtype?: DType; dims?: (string | number)[] } = {}) => {
    const dtype = o.dtype ?? (f32 ? 'float32' : 'float64');
    const t = g.input(`in${k++}`, dtype, o.dims ?? shape);
    const v = hostTensor(dtype, shape);
    const d = v.data as Float64Array;
    for (let i = 0; i < d.length; i++) d[i] = o.lo !== undefined ? o.lo + (o.hi! - o.lo) * rng.float() : rng.normal();
    values.set(t, v);
    return t;
  };
  const outs = build(inp, g);
  return { g, values, outs: Array.isArray(outs) ? outs : [outs], f32 };
}

const idx = (g: Graph, shape: number[], values: number[]) => g.constant(hostTensor('int64', shape, values));
const on = (op: OpDef, ins: Tensor[], attrs: object = {}) => ins[0].graph.apply(op, ins, attrs as never);

const CASES: Record<string, () => Case> = {
  Add: () => make((i) => el.add(i([2, 3]), i([3]))),
  Sub: () => make((i) => el.sub(i([2, 1]), i([2, 3]))),
  Mul: () => make((i) => el.mul(i([2, 3]), i([2, 3]))),
  Div: () => make((i) => el.div(i([2, 3]), i([1, 3], { lo: 0.5, hi: 2 }))),
  Pow: () => make((i) => el.pow(i([2, 3], { lo: 0.5, hi: 2 }), i([3], { lo: -1, hi: 2 }))),
  Max: () => make((i) => el.maximum(i([2, 3]), i([2, 3]))),
  Min: () => make((i) => el.minimum(i([2, 3]), i([3]))),
  Neg: () => make((i) => el.neg(i([4]))),
  Sqrt: () => make((i) => el.sqrt(i([4], { lo: 0.5, hi: 2 }))),
  Exp: () => make((i) => el.exp(i([4]))),
  Log: () => make((i) => el.log(i([4], { lo: 0.5, hi: 2 }))),
  Tanh: () => make((i) => el.tanh(i([4]))),
  Sigmoid: () => make((i) => el.sigmoid(i([4]))),
  Relu: () => make((i) => el.relu(i([6]))),
  Erf: () => make((i) => el.erf(i([4])), true),
  Gelu: () => make((i) => on(el.Gelu, [i([2, 5], { lo: -3, hi: 3 })])[0], true),
  Abs: () => make((i) => el.abs(i([6]))),
  StopGradient: () => make((i) => el.stopGradient(i([3]))),
  Clip: () => make((i) => el.clip(i([8]), -0.5, 0.5)),
  Cast: () => make((i) => el.cast(i([4], { dtype: 'float32' }), 'float64')),
  Where: () => make((i, g) => el.where(g.constant(hostTensor('bool', [2, 3], [1, 0, 1, 0, 0, 1])), i([2, 3]), i([3]))),
  SumTo: () => make((i) => on(el.SumTo, [i([2, 3]), i([1, 3], { dims: ['n', 3] })])),
  ExpandLike: () => make((i) => on(el.ExpandLike, [i([1, 3]), i([2, 3], { dims: ['n', 3] })])),
  Expand: () => make((i) => el.expand(i([3, 1]), [2, 3, 4])),
  MatMul: () => make((i) => mm.matmul(i([2, 2, 3]), i([2, 3, 4]))),
  Gemm: () => make((i) => mm.gemm(i([3, 2]), i([4, 3]), { transA: true, transB: true, alpha: 0.7 }, i([4]))),
  ReduceSum: () => make((i) => rd.sum(i([2, 3, 2]), [0, 2])),
  ReduceMean: () => make((i) => rd.mean(i([2, 3], { dims: ['n', 3] }), [0], true)),
  ReduceMax: () => make((i) => rd.max(i([2, 4]), [1])),
  Softmax: () => make((i) => rd.softmax(i([2, 5]), -1)),
  LogSoftmax: () => make((i) => rd.logSoftmax(i([2, 5]), 0)),
  TokenLogProbs: () => make((i, g) => rd.tokenLogProbs(i([2, 3, 5]), idx(g, [2, 3], [0, 4, 4, 1, 2, 0]))),
  LayerNorm: () => make((i) => rd.layerNorm(i([2, 3, 4]), i([4]), i([4])), true),
  // 3 queries over 5 keys, and an additive bias broadcast over batch and heads (its gradient checked too)
  Attention: () => make((i) => [at.attentionCore(i([2, 2, 3, 4]), i([2, 2, 5, 4]), i([2, 2, 5, 3]), i([3, 5])), at.attentionCore(i([1, 2, 4, 2]), i([1, 2, 4, 2]), i([1, 2, 4, 3]))]),
  Reshape: () => make((i) => sh.reshape(i([2, 3, 2], { dims: ['n', 3, 2] }), [-1, 2])),
  ReshapeLike: () => make((i) => on(sh.ReshapeLike, [i([6]), i([2, 3], { dims: ['n', 3] })])),
  Transpose: () => make((i) => sh.transpose(i([2, 3, 4]), [2, 0, 1])),
  Concat: () => make((i) => sh.concat([i([2, 1], { dims: ['n', 1] }), i([2, 3], { dims: ['n', 3] })], 1)),
  SplitLike: () => make((i) => on(sh.SplitLike, [i([5, 2]), i([2, 1]), i([3, 1], { dims: ['m', 1] })], { axis: 0 })),
  Slice: () => make((i) => [sh.slice(i([4, 5]), [1, -3], [3, Infinity], [0, 1]), sh.slice(i([5, 2], { dims: ['n', 2] }), [-3], [-1], [0])]),
  UnsliceLike: () => make((i) => on(sh.UnsliceLike, [i([2, 2]), i([4, 2], { dims: ['n', 2] })], { starts: [1], ends: [3], axes: [0] })),
  Unsqueeze: () => make((i) => sh.unsqueeze(i([2, 3]), [0, -1])),
  Squeeze: () => make((i) => sh.squeeze(i([2, 1, 3]), [1])),
  Gather: () => make((i, g) => [sh.gather(i([4, 3]), idx(g, [2, 2], [0, 3, 3, 1]), 0), sh.gather(i([2, 4, 3]), idx(g, [3], [1, 1, 2]), 1)]),
  GatherElements: () => make((i, g) => sh.gatherElements(i([2, 4]), idx(g, [2, 3], [0, 0, 3, 1, 2, 2]), 1)),
  GatherND: () => make((i, g) => sh.gatherND(i([3, 2, 2]), idx(g, [3, 2], [0, 1, 2, 0, 0, 1]))),
  ScatterNDAdd: () => make((i, g) => sh.scatterNDAdd(i([4, 2]), idx(g, [3, 1], [1, 3, 1]), i([3, 2]))),
  ScatterElementsAdd: () => make((i, g) => sh.scatterElementsAdd(i([2, 3]), idx(g, [2, 2], [0, 0, 2, 1]), i([2, 2]), 1)),
};

/** Ops whose outputs carry no gradient, and why. */
const NO_GRAD: Record<string, string> = {
  Sign: 'piecewise constant',
  Equal: 'bool output', Less: 'bool output', Greater: 'bool output', LessOrEqual: 'bool output',
  GreaterOrEqual: 'bool output', And: 'bool output', Or: 'bool output', Not: 'bool output',
  Count: 'a size', ZerosLike: 'constant', ShapeOf: 'int64 shape', Arange: 'int64 range', DimOf: 'int64 size',
};

let runner: Runner;
beforeAll(async () => {
  runner = await openRunner({ thread: 'inline', threads: 1 });
});
afterAll(async () => {
  await runner.close();
});

async function check(c: Case): Promise<{ worst: number; checked: number; zeroOnly: boolean }> {
  const { g, values } = c;
  const rng = new Rng('w');
  const weights: Record<string, HostTensor> = {};
  const feeds = () => ({ ...weights, ...Object.fromEntries([...values].map(([t, v]) => [t.name!, v])) });
  const feedUsed = (s: { inputNames: string[] }) => Object.fromEntries(Object.entries(feeds()).filter(([n]) => s.inputNames.includes(n)));
  // run-time output shapes (outputs may have named dims)
  const probe = await runner.open(buildInference(g, { outputs: Object.fromEntries(c.outs.map((o, i) => [`o${i}`, o])) }).onnx);
  const shapes = await probe.run(feedUsed(probe));
  await probe.close();
  let loss: Tensor | undefined;
  for (const [oi, o] of c.outs.entries()) {
    const w = hostTensor(o.dtype, shapes[`o${oi}`].shape);
    const d = w.data as Float64Array;
    for (let i = 0; i < d.length; i++) d[i] = rng.normal();
    const wt = g.input(`w${oi}`, o.dtype, o.shape);
    weights[wt.name!] = w;
    const term = sumAll(mul(o, wt));
    loss = loss ? add(loss, term) : term;
  }
  const leaves = [...values.keys()];
  const grads = gradients(loss!, leaves);
  const fwd = await runner.open(buildInference(g, { outputs: { loss: cast(loss!, 'float64') } }).onnx);
  const bwd = await runner.open(buildInference(g, { outputs: Object.fromEntries(grads.map((d, i) => [`d${i}`, d])) }).onnx);
  const analytic = await bwd.run(feedUsed(bwd));
  const f32 = c.f32 || leaves.some((t) => t.dtype === 'float32');
  const [eps, atol, rtol] = f32 ? [3e-3, 1e-3, 1e-2] : [1e-6, 1e-6, 1e-5];
  let worst = 0, checked = 0, zeroOnly = true;
  for (const [li, t] of leaves.entries()) {
    const v = values.get(t)!.data as Float64Array;
    const a = analytic[`d${li}`].data as Float64Array;
    const base = v.slice();
    for (let j = 0; j < v.length; j++) {
      v[j] = base[j] + eps;
      const hi = v[j];
      const lp = Number((await fwd.run(feedUsed(fwd))).loss.data[0]);
      v[j] = base[j] - eps;
      const lo = v[j];
      const lm = Number((await fwd.run(feedUsed(fwd))).loss.data[0]);
      v[j] = base[j];
      const num = (lp - lm) / (hi - lo);
      worst = Math.max(worst, Math.abs(a[j] - num) / (atol + rtol * Math.abs(num)));
      if (a[j] !== 0) zeroOnly = false;
      checked++;
    }
  }
  await fwd.close();
  await bwd.close();
  return { worst, checked, zeroOnly };
}

describe('gradient rules', () => {
  it('every op has a finite-difference case or is declared without gradient', () => {
    const names = ALL_OPS.map((o) => o.name);
    const missing = ALL_OPS.filter((o) => o.grad !== 'none' && !CASES[o.name]).map((o) => o.name);
    const undeclared = ALL_OPS.filter((o) => o.grad === 'none' && !NO_GRAD[o.name]).map((o) => o.name);
    expect(missing, 'ops with a gradient rule but no finite-difference case').toEqual([]);
    expect(undeclared, 'ops without gradient that NO_GRAD does not list').toEqual([]);
    expect(Object.keys(CASES).filter((n) => !names.includes(n)), 'cases for ops that do not exist').toEqual([]);
  });

  for (const [name, build] of Object.entries(CASES)) {
    it(`${name}: analytic gradient matches central differences`, async () => {
      const r = await check(build());
      expect(r.checked).toBeGreaterThan(0);
      if (name === 'StopGradient') expect(r.zeroOnly).toBe(true);
      else expect(r.worst, 'worst |analytic - numeric| / (atol + rtol |numeric|)').toBeLessThanOrEqual(1);
    });
  }
});

/** The nodes that `outs` depend on (what lowering emits). */
function liveNodes(outs: Tensor[]): Set<object> {
  const live = new Set<object>();
  const stack = [...outs];
  while (stack.length) {
    const t = stack.pop()!;
    if (!t.node || live.has(t.node)) continue;
    live.add(t.node);
    stack.push(...t.node.inputs);
  }
  return live;
}

describe('gradient rewrites', () => {
  // x feeds three linears (as attention's input feeds q, k and v): its gradient is summed inside the Gemms
  const threeLinears = (i: (shape: number[], o?: { dims?: (string | number)[] }) => Tensor) => {
    const x = i([2, 3, 4], { dims: ['b', 3, 4] });
    return [linear(x, i([4, 5]), i([5])), linear(x, i([4, 5])), linear(x, i([4, 2]))];
  };

  it('a tensor feeding several linears: the gradient sum goes into the Gemm C input, and matches central differences', async () => {
    const c = make(threeLinears);
    const x = [...c.values.keys()][0];
    const [dx] = gradients(sumAll(add(add(sumAll(c.outs[0]), sumAll(c.outs[1])), sumAll(c.outs[2]))), [x]);
    const seen = new Set<Tensor>();
    const stack = [dx];
    while (stack.length) {
      const t = stack.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      stack.push(...(t.node?.inputs ?? []));
    }
    const nodes = [...new Set([...seen].map((t) => t.node).filter((n) => n !== undefined))];
    const accumulating = nodes.filter((n) => n.op === mm.Gemm && n.inputs.length === 3 && n.inputs[2].rank === 2);
    expect(accumulating, 'two Gemms take the other contributions as C').toHaveLength(2);
    expect(nodes.filter((n) => n.op === el.Add), 'no Add sums the contributions').toHaveLength(0);
    const r = await check(make(threeLinears));
    expect(r.checked).toBeGreaterThan(0);
    expect(r.worst, 'worst |analytic - numeric| / (atol + rtol |numeric|)').toBeLessThanOrEqual(1);
  });

  it('a power-of-two scaling next to linears folds into their Gemms (alpha), and gradients match central differences', async () => {
    // the scaled product feeds a second linear, as attention's 1/sqrt(dh) on q feeds its score product
    const scaled = (i: (shape: number[], o?: { dims?: (string | number)[] }) => Tensor) =>
      linear(mul(linear(i([2, 3, 4], { dims: ['b', 3, 4] }), i([4, 6]), i([6])), 0.25), i([6, 5]), i([5]));
    const c = make(scaled);
    const loss = sumAll(mul(c.outs[0], c.outs[0]));
    const grads = gradients(loss, [...c.values.keys()]);
    const folds = scaleFolds(c.g, liveNodes([loss, ...grads]), new Set([loss, ...grads]));
    // the scaling forward and its gradient backward
    expect([...folds.alias.keys()].filter((n) => n.outputs[0].rank === 3)).toHaveLength(2);
    const r = await check(make(scaled));
    expect(r.worst, 'worst |analytic - numeric| / (atol + rtol |numeric|)').toBeLessThanOrEqual(1);
  });

  it('GELU between linears: its factors 1/2 fold into the Gemms and give the same bits as without folding', async () => {
    const g = new Graph();
    const rng = new Rng(3);
    const val = (shape: number[], scale = 1) => hostTensor('float32', shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * rng.normal()));
    const feeds: Record<string, HostTensor> = { x: val([2, 3, 4]), zero: hostTensor('float32', [2, 3, 6]), r: val([2, 3, 5]) };
    const x = g.input('x', 'float32', ['b', 3, 4]);
    const w1 = g.param('w1', val([4, 6])), b1 = g.param('b1', val([6])), w2 = g.param('w2', val([6, 5])), b2 = g.param('b2', val([5]));
    const h = linear(x, w1, b1);
    const folded = linear(gelu(h), w2, b2);
    // the same math where nothing can fold: GELU's input is not a Gemm product, its output is also an output
    const y = gelu(add(h, g.input('zero', 'float32', ['b', 3, 6])));
    const plain = linear(y, w2, b2);
    const r = g.input('r', 'float32', ['b', 3, 5]);
    const [dxFolded] = gradients(sumAll(mul(folded, r)), [x]);
    const [dxPlain] = gradients(sumAll(mul(plain, r)), [x]);
    const m = buildInference(g, { outputs: { folded, plain, y, dxFolded, dxPlain } });
    const s = await runner.open(m.onnx);
    const out = await s.run(feeds);
    await s.close();
    expect(Array.from(out.folded.data as Float32Array)).toEqual(Array.from(out.plain.data as Float32Array));
    expect(Array.from(out.dxFolded.data as Float32Array)).toEqual(Array.from(out.dxPlain.data as Float32Array));
    const folds = scaleFolds(g, liveNodes([folded, plain, y, dxFolded, dxPlain]), new Set([folded, plain, y, dxFolded, dxPlain]));
    expect([...folds.alias.keys()].filter((n) => n.outputs[0].rank === 3).length, 'the 1/2 after GELU and its gradient fold').toBeGreaterThanOrEqual(2);
  });
});

/**
 * Model builders: the training step (forward, backward, clipping, optimizer update in one ONNX graph; a
 * K-step variant wraps the same step in an ONNX Loop) and inference-only graphs with any outputs.
 *
 * Training-step model, one update per run:
 *   inputs:  trainable params (by name), optimizer slots ('<opt>.<slot>/<param>'), 'step' int64 [],
 *            'lr' [], the batch inputs used by the loss
 *   outputs: 'next/<name>' for every param, slot and step; 'loss' [], 'grad_norm' [], the metrics
 * K-step model: the same, with 'lr' [K], batch inputs stacked [K, ...], and loss, grad_norm and metrics
 * stacked [K, ...]. Frozen params are initializers in both.
 */
import { type DType, type HostTensor, hostTensor } from './dtype.ts';
import { gradients } from './autodiff.ts';
import { lower } from './emit.ts';
import type { Graph, Param, Tensor } from './graph.ts';
import { type GraphProto, type NodeProto, type ValueInfo, encodeModel } from './onnx.ts';
import { add, cast, div, minimum, mul, sqrt } from './ops/elementwise.ts';
import { sumAll } from './ops/reduce.ts';
import { type Optimizer, zeroSlot } from './optim.ts';

export interface TrainStepSpec {
  /** Scalar float loss. */
  loss: Tensor;
  optimizer: Optimizer;
  /** Global gradient-norm clipping as torch.nn.utils.clip_grad_norm_ (scale by max / (norm + 1e-6), at most 1). */
  clipNorm?: number;
  /** Extra outputs of each step (e.g. accuracy), any shape. */
  metrics?: Record<string, Tensor>;
}

export interface TrainStepModel {
  /** ONNX model doing one update per run. */
  single(): Uint8Array;
  /** ONNX model doing K updates per run (K = length of 'lr'), bit-identical to K single runs. */
  loop(): Uint8Array;
  /** Batch inputs of one step (the K-step model stacks them [K, ...]). */
  batch: ValueInfo[];
  /** Trainable param names. */
  params: string[];
  /** Everything carried from run to run: params, optimizer slots, 'step'. */
  state: string[];
  /** Output name -> the state name it replaces ('next/w' -> 'w'). */
  carry: Record<string, string>;
  /** Names of the per-step outputs: 'loss', 'grad_norm', then the metrics. */
  metrics: string[];
  /** Current param values (from the graph) with zero optimizer state and step 0. */
  initialState(): Record<string, HostTensor>;
}

const RESERVED = ['lr', 'step'];
const built = new WeakSet<Graph>();

/** Builds the training step for `g` (adds backward and optimizer nodes to g; once per graph). */
export function buildTrainStep(g: Graph, spec: TrainStepSpec): TrainStepModel {
  if (built.has(g)) throw new Error('buildTrainStep: this graph already has a training step (it adds backward nodes to the graph); build a fresh graph for another');
  built.add(g);
  for (const r of RESERVED) {
    if (g.inputs.some((t) => t.name === r) || g.params.has(r)) throw new Error(`buildTrainStep: the name ${JSON.stringify(r)} is reserved for the step model (rename your input or param)`);
  }
  const trainable = g.trainableParams();
  if (trainable.length === 0) throw new Error('buildTrainStep: the graph has no trainable params');
  const dtype: DType = trainable[0].value.dtype;
  const metricEntries = Object.entries(spec.metrics ?? {});
  for (const [n] of metricEntries) {
    if (n === 'loss' || n === 'grad_norm' || n.startsWith('next/')) throw new Error(`buildTrainStep: metric name ${JSON.stringify(n)} is taken by the step model's own outputs; rename it`);
  }
  const batchCandidates = g.inputs.slice();

  const lr = g.input('lr', dtype, []);
  const step = g.input('step', 'int64', []);
  const slots = trainable.map((p) => spec.optimizer.slots.map((s) => g.input(`${spec.optimizer.name}.${s}/${p.tensor.name}`, p.value.dtype, p.value.shape)));

  const raws = gradients(spec.loss, trainable.map((p) => p.tensor));
  const { gradNorm, updates } = g.within('optimizer', () => {
    const grads = raws.map((raw) => ({ raw, sq: mul(raw, raw) }));
    const gradNorm = sqrt(grads.map((d) => sumAll(d.sq)).reduce((a, b) => add(a, b)));
    // clipping scales the gradients inside the optimizer's scalars (no pass over the gradients of its own)
    const scale = spec.clipNorm === undefined ? undefined : minimum(div(spec.clipNorm, add(gradNorm, 1e-6)), 1);
    const t = cast(add(step, 1), dtype);
    return { gradNorm, updates: spec.optimizer.update(trainable.map((p, i) => ({ p, grad: grads[i], state: slots[i] })), lr, t, scale) };
  });
  const next: [string, Tensor][] = [];
  trainable.forEach((p, i) => {
    next.push([p.tensor.name!, updates[i].param]);
    slots[i].forEach((s, j) => next.push([s.name!, updates[i].state[j]]));
  });
  next.push(['step', add(step, 1)]);

  const perStep: [string, Tensor][] = [['loss', spec.loss], ['grad_norm', gradNorm], ...metricEntries];
  const outputs: [string, Tensor][] = [...next.map(([n, v]): [string, Tensor] => [`next/${n}`, v]), ...perStep];
  const used = usedLeaves(outputs.map(([, x]) => x));
  const batch = batchCandidates.filter((x) => used.has(x));
  const stateTensors = [...trainable.map((p) => p.tensor), ...slots.flat(), step];
  const frozen = [...g.params.values()].filter((p) => !p.trainable && used.has(p.tensor)).map((p) => p.tensor);

  return {
    batch: batch.map(info),
    params: trainable.map((p) => p.tensor.name!),
    state: stateTensors.map((x) => x.name!),
    carry: Object.fromEntries(next.map(([n]) => [`next/${n}`, n])),
    metrics: perStep.map(([n]) => n),
    initialState: () => initialState(trainable, slots),
    single: () => encodeModel(lower(g, { name: 'main', inputs: [...stateTensors, lr, ...batch], initializers: frozen, outputs })),
    loop: () => encodeModel(loopGraph(g, { stateTensors, lr, batch, frozen, next, perStep })),
  };
}

function initialState(trainable: Param[], slots: Tensor[][]): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  trainable.forEach((p, i) => {
    out[p.tensor.name!] = p.value;
    for (const s of slots[i]) out[s.name!] = zeroSlot(p);
  });
  out.step = hostTensor('int64', [], [0]);
  return out;
}

function info(t: Tensor): ValueInfo {
  return { name: t.name!, dtype: t.dtype, shape: t.shape };
}

/** Inputs and params that `outs` depend on. */
export function usedLeaves(outs: Tensor[]): Set<Tensor> {
  const seen = new Set<Tensor>();
  const leaves = new Set<Tensor>();
  const stack = [...outs];
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x)) continue;
    seen.add(x);
    if (x.kind === 'input' || x.kind === 'param') leaves.add(x);
    if (x.node) stack.push(...x.node.inputs);
    // named dims are read from the inputs that declare them
    for (const d of x.shape) {
      if (typeof d !== 'string') continue;
      for (const part of d.split(/[*+()]/).filter(Boolean)) {
        const src = x.graph.dimSource(part);
        if (src) stack.push(src.input);
      }
    }
  }
  return leaves;
}

interface LoopParts {
  stateTensors: Tensor[];
  lr: Tensor;
  batch: Tensor[];
  frozen: Tensor[];
  next: [string, Tensor][];
  perStep: [string, Tensor][];
}

/** The K-step model: one Loop whose body is the single step, the batch and lr sliced by the iteration. */
function loopGraph(g: Graph, parts: LoopParts): GraphProto {
  const K = 'k_steps';
  // Loop-carried values pair up by position: body outputs in the order of the state inputs
  const byName = new Map(parts.next);
  const p = { ...parts, next: parts.stateTensors.map((x): [string, Tensor] => [x.name!, byName.get(x.name!)!]) };
  const bound = new Map<Tensor, string>();
  const prologue: NodeProto[] = [{ opType: 'Identity', inputs: ['body_cond'], outputs: ['body_cond_out'] }];
  for (const x of p.stateTensors) bound.set(x, `${x.name}@k`);
  for (const x of [p.lr, ...p.batch]) {
    bound.set(x, `${x.name}@k`);
    prologue.push({ opType: 'Gather', inputs: [x.name!, 'body_iter'], outputs: [`${x.name}@k`], attrs: { axis: 0 } });
  }
  for (const x of p.frozen) bound.set(x, x.name!);
  const body = lower(g, {
    name: 'body',
    inputs: [],
    initializers: [],
    bound,
    prologue,
    extraInputs: [
      { name: 'body_iter', dtype: 'int64', shape: [] },
      { name: 'body_cond', dtype: 'bool', shape: [] },
      ...p.stateTensors.map((x) => ({ ...info(x), name: `${x.name}@k` })),
    ],
    extraOutputs: [{ name: 'body_cond_out', dtype: 'bool', shape: [] }],
    outputs: [...p.next.map(([n, v]): [string, Tensor] => [`next/${n}@k`, v]), ...p.perStep.map(([n, v]): [string, Tensor] => [`${n}@k`, v])],
  });
  const main = lower(g, { name: 'main', inputs: [], initializers: p.frozen, outputs: [] });
  const stacked = (x: Tensor): ValueInfo => ({ ...info(x), shape: [K, ...x.shape] });
  return {
    kind: 'graph',
    name: 'main',
    nodes: [
      { opType: 'Shape', inputs: ['lr'], outputs: ['loop_k1'] },
      { opType: 'Squeeze', inputs: ['loop_k1'], outputs: ['loop_k'] },
      {
        opType: 'Loop',
        inputs: ['loop_k', '', ...p.stateTensors.map((x) => x.name!)],
        outputs: [...p.next.map(([n]) => `next/${n}`), ...p.perStep.map(([n]) => n)],
        attrs: { body },
      },
    ],
    initializers: main.initializers,
    inputs: [...p.stateTensors.map(info), stacked(p.lr), ...p.batch.map(stacked)],
    outputs: [
      ...p.next.map(([n, v]) => ({ name: `next/${n}`, dtype: v.dtype, shape: v.shape })),
      ...p.perStep.map(([n, v]) => ({ name: n, dtype: v.dtype, shape: [K, ...v.shape] })),
    ],
  };
}

export interface InferenceSpec {
  outputs: Record<string, Tensor>;
  /**
   * 'initializers' (default): every param is baked into the model. 'inputs': trainable params are graph
   * inputs (fed from the runner's state, e.g. the weights a Trainer holds), frozen ones stay initializers.
   */
  weights?: 'initializers' | 'inputs';
}

export interface InferenceModel {
  onnx: Uint8Array;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

/** An inference-only model (no autodiff) with any number of named outputs (logits, KV-cache tensors, ...). */
export function buildInference(g: Graph, spec: InferenceSpec): InferenceModel {
  const outs = Object.entries(spec.outputs);
  const used = usedLeaves(outs.map(([, t]) => t));
  const asInputs = spec.weights === 'inputs';
  const params = [...g.params.values()].filter((p) => used.has(p.tensor));
  const fed = [...g.inputs.filter((x) => used.has(x)), ...params.filter((p) => asInputs && p.trainable).map((p) => p.tensor)];
  const inits = params.filter((p) => !asInputs || !p.trainable).map((p) => p.tensor);
  const graph = lower(g, { name: 'main', inputs: fed, initializers: inits, outputs: outs });
  return { onnx: encodeModel(graph), inputs: graph.inputs, outputs: graph.outputs };
}

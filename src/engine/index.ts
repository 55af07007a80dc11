/**
 * o2o's training engine: typed graphs -> reverse-mode autodiff -> ONNX -> onnxruntime-node.
 *
 * ## Declare inputs and params, build a forward graph
 * ```ts
 * import { Graph, init, linear, relu, crossEntropy } from '../engine/index.ts';
 * const g = new Graph();
 * const x = g.input('x', 'float32', ['batch', 784]);        // named dims are dynamic
 * const y = g.input('y', 'int64', ['batch']);
 * const rng = new Rng(seed);
 * const w1 = g.param('w1', init.linearInit(rng, 784, 512)); // trainable (an input of the step model)
 * const b1 = g.param('b1', init.zeros([512]));
 * const emb = g.param('emb', pretrained, { trainable: false }); // frozen: an ONNX initializer, no gradient
 * const logits = linear(relu(linear(x, w1, b1)), w2, b2);   // [batch, 10]
 * const loss = crossEntropy(logits, y);                      // scalar
 * ```
 * Ops are functions of tensors (numbers are lifted to scalars): add sub mul div pow neg sqrt exp log tanh
 * sigmoid relu gelu erf abs clip minimum maximum where cast stopGradient | matmul gemm linear | sum mean max
 * (axes, keepdims) sumAll meanAll softmax logSoftmax layerNorm | reshape transpose concat slice squeeze
 * unsqueeze splitLike gather gatherElements gatherND expand embedding | attention (causal, keyMask) causalAllowed
 * attentionCore (softmax(q k^T + bias) v with its own gradient, for masks built by hand)
 * crossEntropy tokenLogProbs | arange dimOf shapeOf, comparisons (equal less greater ...), and/or/not.
 * Shapes are checked as you build; errors name the op and the shapes.
 *
 * ## Training step (forward + backward + AdamW in one ONNX model)
 * ```ts
 * const model = buildTrainStep(g, { loss, optimizer: adamw({ weightDecay: 0.01 }), clipNorm: 1.0, metrics: { acc } });
 * const runner = await openRunner({ provider: 'cpu', threads: 2 });  // worker thread by default
 * const trainer = await openTrainer(runner, model);
 * const m = await trainer.step({ x: hostTensor('float32', [B, 784], xs), y: hostTensor('int64', [B], ys) }, 1e-3);
 * // m.loss, m.grad_norm, m.acc are HostTensors ({dtype, shape, data})
 * await trainer.steps({ x: stackedX [K,B,784], y: stackedY [K,B] }, lrs);  // K updates in one Loop run
 * const lrAt = cosineLr({ lr: 3e-4, warmup: 100, total: 10_000, minLr: 3e-5 });  // host-side schedule: lrAt(step)
 * await trainer.save(file); await trainer.load(file);            // safetensors: params + slots + step
 * const weights = await trainer.params();                         // { w1: HostTensor, ... }
 * await trainer.close(); await runner.close();
 * ```
 * Params, optimizer slots ('adamw.m/<param>', 'adamw.v/<param>') and 'step' live in the runner's state
 * between runs; only the batch, lr and metrics cross the worker boundary. 'lr' and 'step' are reserved names.
 *
 * ## Inference-only graphs (no autodiff), several outputs, e.g. a KV cache
 * ```ts
 * const g = new Graph();
 * const ids = g.input('ids', 'int64', ['batch', 'seq']);
 * const pastK = g.input('past.k0', 'float32', ['batch', heads, 'past', dh]);
 * ... const k = concat([pastK, kNew], 2);                       // [batch, heads, past+seq, dh]
 * const att = attention(q, k, v, { causal: true });             // causal offset handles past + seq
 * const m = buildInference(g, { outputs: { logits, 'present.k0': k }, weights: 'inputs' });
 * const dec = await runner.open(m.onnx, { 'present.k0': 'past.k0' });   // carry: output -> state name
 * await runner.setState({ 'past.k0': emptyCache });
 * const { logits } = await dec.run({ ids }, ['logits']);        // the cache stays in the runner
 * ```
 * `weights: 'inputs'` makes trainable params inputs fed from the runner state by name, so a Trainer on
 * the same runner and a generation session share one copy of the weights (without a trainer, put them
 * there with `runner.setState(values)`); 'initializers' (default) bakes the current param values into the
 * model: load a checkpoint's params first with `g.setParamValues(values)` (it refuses names that are not
 * params of g, so leave out a trainer checkpoint's optimizer slots 'adamw.m/...' and 'step'). For lowest
 * decode latency open the runner with `thread: 'inline'` (same interface, runs in the calling thread).
 * Feeds that a model does not take are ignored (models drop unused inputs), so one batch record can feed
 * several models. `gradients(loss, [tensors])` gives gradient tensors for graphs of your own.
 *
 * ## Providers and threads
 * `openRunner({ provider: 'cpu' | 'cuda' | 'webgpu', threads })`: cpu is the default; cuda needs the CUDA
 * build of onnxruntime-node (see README "GPU"); a provider that cannot start fails with an error naming
 * the missing piece. `threads` = intra-op threads (default: one per physical core). On cpu the runner calls
 * onnxruntime's C API (`binding: 'c-api'`, the default where the library loads: state written in place, no
 * output copies); `binding: 'onnxruntime-node'` uses that package's JavaScript binding instead.
 */
export * from './dtype.ts';
export { Graph, Tensor, type OpDef, type Param, type ParamOptions } from './graph.ts';
export * from './ops/elementwise.ts';
export { matmul, gemm } from './ops/matmul.ts';
export { sum, mean, max, sumAll, meanAll, softmax, logSoftmax, layerNorm, count, tokenLogProbs } from './ops/reduce.ts';
export {
  reshape, reshapeLike, transpose, concat, slice, unsqueeze, squeeze, gather, gatherElements, gatherND,
  splitLike, scatterNDAdd, scatterElementsAdd, zerosLike, shapeOf, arange, dimOf,
} from './ops/shape.ts';
export * from './ops/nn.ts';
export { attentionCore } from './ops/attention.ts';
export { gradients } from './autodiff.ts';
export { sgd, adam, adamw, type Optimizer, type AdamOptions, type SgdOptions } from './optim.ts';
export { buildTrainStep, buildInference, type TrainStepModel, type TrainStepSpec, type InferenceModel, type InferenceSpec } from './train.ts';
export { openRunner, type Runner, type RunnerOptions, type Session, type Provider } from './runner.ts';
export { openTrainer, type Trainer } from './trainer.ts';
export { cosineLr, type CosineSchedule } from './schedule.ts';
export { saveSafetensors, loadSafetensors, encodeSafetensors, decodeSafetensors } from './checkpoint.ts';
export * as init from './init.ts';

/**
 * `npm run bench -- gpu [--provider webgpu|cuda] [--quick]`: one AdamW training step of an MLP on a GPU
 * provider with the state (params, Adam moments, step) left on the device between steps, against the same
 * step copying the state host↔device every step, and the CPU provider as the reference, side by side in one
 * run. Also the host↔device bytes per step, summed from the sizes of the tensors that crossed.
 *
 * Model: x [B, 784] → frozen projection [784, 784] (an initializer: uploaded once) → 512 → 10, batch 256;
 * --quick: 64 → 32 → 10, batch 16.
 */
import type { DType, HostTensor } from '../src/engine/dtype.ts';
import { adamw, buildTrainStep, crossEntropy, Graph, hostTensor, init, linear, relu, type TrainStepModel } from '../src/engine/index.ts';
import { createDeviceCore, type Residency } from '../src/engine/device/device-core.mjs';
import { probeProvider } from '../src/engine/device/probe.mjs';
import { parseProvider, type Provider } from '../src/engine/device/provider.mjs';
import { Rng } from '../src/util/rng.ts';
import { type BenchArgs, figure, median } from './report.ts';

export interface MlpSpec {
  seed: number;
  batch: number;
  /** [input, hidden..., classes]; the first layer is a frozen square projection of the input. */
  dims: number[];
}

/**
 * An MLP training step (AdamW, clip 1.0) with a frozen first layer, and `n` seeded batches for it:
 * x [batch, dims[0]] float32, y [batch] int64.
 */
export function mlpStep(spec: MlpSpec, n: number): { model: TrainStepModel; batches: Record<string, HostTensor>[]; lrType: DType } {
  const rng = new Rng(spec.seed);
  const g = new Graph();
  const [inDim, ...rest] = spec.dims;
  const classes = rest[rest.length - 1];
  const x = g.input('x', 'float32', ['batch', inDim]);
  const y = g.input('y', 'int64', ['batch']);
  let h = linear(x, g.param('frozen', init.linearInit(rng, inDim, inDim), { trainable: false }));
  let fan = inDim;
  rest.forEach((d, i) => {
    h = linear(h, g.param(`w${i}`, init.linearInit(rng, fan, d)), g.param(`b${i}`, init.zeros([d])));
    if (i < rest.length - 1) h = relu(h);
    fan = d;
  });
  const model = buildTrainStep(g, { loss: crossEntropy(h, y), optimizer: adamw({ weightDecay: 0.01 }), clipNorm: 1.0 });
  const data = rng.fork('batches');
  const batches = Array.from({ length: n }, () => ({
    x: init.normal(data, [spec.batch, inDim], 1),
    y: hostTensor('int64', [spec.batch], Array.from({ length: spec.batch }, () => data.int(classes))),
  }));
  return { model, batches, lrType: 'float32' };
}

interface CaseResult {
  stepMs: number[];
  toDevice: number;
  toHost: number;
}

async function timeCase(provider: Provider, residency: Residency, m: ReturnType<typeof mlpStep>, warmup: number): Promise<CaseResult> {
  const core = createDeviceCore({ provider, residency, reportFallbacks: false });
  try {
    core.setState(m.model.initialState());
    const s = await core.open(m.model.single(), m.model.carry);
    const stepMs: number[] = [];
    for (let i = 0; i < m.batches.length; i++) {
      const t0 = performance.now();
      await core.run(s.id, { ...m.batches[i], lr: hostTensor(m.lrType, [], [1e-3]) });
      if (i >= warmup) stepMs.push(performance.now() - t0);
    }
    return { stepMs, ...core.traffic() };
  } finally {
    await core.close();
  }
}

export async function run(args: BenchArgs): Promise<void> {
  const i = args.argv.indexOf('--provider');
  const provider = parseProvider(i >= 0 ? args.argv[i + 1] : 'webgpu');
  const spec: MlpSpec = args.quick ? { seed: 0, batch: 16, dims: [64, 32, 10] } : { seed: 0, batch: 256, dims: [784, 512, 10] };
  const warmup = 2;
  const runs = args.quick ? 3 : 20;
  const m = mlpStep(spec, warmup + runs);
  const model = `mlp ${spec.dims.join('-')} (first layer frozen)`;
  console.log(`gpu bench: ${model}, batch ${spec.batch}, AdamW; median of ${runs} steps after ${warmup} warm-up`);

  const cpu = await timeCase('cpu', 'host', m, warmup);
  const cpuMs = median(cpu.stepMs);
  console.log(`cpu: ${cpuMs.toFixed(2)} ms/step`);
  figure({ bench: 'gpu', figure: 'train_step_ms', model, batch: spec.batch, provider: 'cpu', residency: 'host', value: cpuMs, unit: 'ms' });

  const probe = await probeProvider(provider);
  if (!probe.ok) {
    console.log(`${provider}: not measured: ${probe.reason}`);
    return;
  }
  const ms: Partial<Record<Residency, number>> = {};
  for (const residency of ['device', 'host'] as const) {
    const r = await timeCase(provider, residency, m, warmup);
    ms[residency] = median(r.stepMs);
    const label = residency === 'device' ? 'state on the device' : 'state copied every step';
    console.log(`${provider}, ${label}: ${ms[residency]!.toFixed(2)} ms/step, ${r.toDevice} B to the device and ${r.toHost} B to the host per step`);
    const key = { bench: 'gpu', model, batch: spec.batch, provider, residency };
    figure({ ...key, figure: 'train_step_ms', value: ms[residency]!, unit: 'ms' });
    figure({ ...key, figure: 'bytes_to_device', value: r.toDevice, unit: 'B/step' });
    figure({ ...key, figure: 'bytes_to_host', value: r.toHost, unit: 'B/step' });
  }
  const ratio = ms.host! / ms.device!;
  console.log(`${provider}: copying the state every step takes ${ratio.toFixed(2)}x the device-resident step; ${provider}/cpu ${(ms.device! / cpuMs).toFixed(1)}x`);
  figure({ bench: 'gpu', figure: 'ratio', model, provider, value: ratio, unit: 'copy/resident' });
  figure({ bench: 'gpu', figure: 'ratio', model, provider, value: ms.device! / cpuMs, unit: `${provider}/cpu` });
}

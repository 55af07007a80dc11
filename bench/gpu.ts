/**
 * `npm run bench -- gpu [--provider webgpu|cuda] [--quick]`: one AdamW training step of an MLP on a GPU
 * provider with the state (params, Adam moments, step) left on the device between steps, against the same
 * step copying the state host↔device every step, and the CPU provider as the reference, side by side in one
 * run. Also the host↔device bytes per step, summed from the sizes of the tensors that crossed.
 *
 * Model: x [B, 784] → frozen projection [784, 784] (an initializer: uploaded once) → 512 → 10, batch 256;
 * --quick: 64 → 32 → 10, batch 16.
 */
import { DTYPES, type DType, type HostTensor } from '../src/engine/dtype.ts';
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

/** Stacks K batches into one K-step Loop feed: each tensor [K, ...]. */
export function stackBatches(batches: Record<string, HostTensor>[]): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const name of Object.keys(batches[0])) {
    const parts = batches.map((b) => b[name]);
    const data = new DTYPES[parts[0].dtype].array(parts.reduce((n, p) => n + p.data.length, 0));
    let o = 0;
    for (const p of parts) {
      (data as Float32Array).set(p.data as Float32Array, o);
      o += p.data.length;
    }
    out[name] = { dtype: parts[0].dtype, shape: [parts.length, ...parts[0].shape], data };
  }
  return out;
}

interface Case {
  residency: Residency;
  /** Updates per run: 1 = the single-step model, K = the K-step Loop model. */
  k: number;
}

interface CaseResult {
  /** Milliseconds per update (run time / k). */
  updateMs: number[];
  /** Bytes per update (per run / k). */
  toDevice: number;
  toHost: number;
}

/**
 * Trains one copy of the model per case, the cases taking turns (the order alternating each round) so that
 * all see the same machine load. Each round feeds every case `kMax` batches (one run of the Loop model, or
 * kMax/k runs); the first `warmup` rounds (shader compilation) are not timed.
 */
async function timeCases(provider: Provider, cases: Case[], m: ReturnType<typeof mlpStep>, rounds: number, warmup: number): Promise<CaseResult[]> {
  const kMax = Math.max(...cases.map((c) => c.k));
  const cores = cases.map((c) => createDeviceCore({ provider, residency: c.residency, reportFallbacks: false }));
  try {
    const ids: number[] = [];
    for (const [c, core] of cores.entries()) {
      core.setState(m.model.initialState());
      ids.push((await core.open(cases[c].k > 1 ? m.model.loop() : m.model.single(), m.model.carry)).id);
    }
    const updateMs = cores.map((): number[] => []);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...cores.keys()].reverse() : [...cores.keys()];
      for (const c of order) {
        const { k } = cases[c];
        for (let j = 0; j < kMax; j += k) {
          const batches = m.batches.slice(r * kMax + j, r * kMax + j + k);
          const feeds = k > 1 ? { ...stackBatches(batches), lr: hostTensor(m.lrType, [k], Array(k).fill(1e-3)) } : { ...batches[0], lr: hostTensor(m.lrType, [], [1e-3]) };
          const t0 = performance.now();
          await cores[c].run(ids[c], feeds);
          if (r >= warmup) updateMs[c].push((performance.now() - t0) / k);
        }
      }
    }
    return cores.map((core, c) => ({ updateMs: updateMs[c], toDevice: core.traffic().toDevice / cases[c].k, toHost: core.traffic().toHost / cases[c].k }));
  } finally {
    for (const core of cores) await core.close();
  }
}

export async function run(args: BenchArgs): Promise<void> {
  const i = args.argv.indexOf('--provider');
  const provider = parseProvider(i >= 0 ? args.argv[i + 1] : 'webgpu');
  const spec: MlpSpec = args.quick ? { seed: 0, batch: 16, dims: [64, 32, 10] } : { seed: 0, batch: 256, dims: [784, 512, 10] };
  const K = args.quick ? 2 : 8;
  const warmup = 1;
  const rounds = warmup + (args.quick ? 2 : 4);
  const m = mlpStep(spec, rounds * K);
  const model = `mlp ${spec.dims.join('-')} (first layer frozen)`;
  const timed = (rounds - warmup) * K;
  console.log(`gpu bench: ${model}, batch ${spec.batch}, AdamW; median over ${timed} updates after ${warmup * K} warm-up; the cases take turns`);

  const [cpu] = await timeCases('cpu', [{ residency: 'host', k: 1 }], m, rounds, warmup);
  const cpuMs = median(cpu.updateMs);
  console.log(`cpu: ${cpuMs.toFixed(2)} ms/step`);
  figure({ bench: 'gpu', figure: 'train_step_ms', model, batch: spec.batch, provider: 'cpu', residency: 'host', k: 1, value: cpuMs, unit: 'ms' });

  const probe = await probeProvider(provider);
  if (!probe.ok) {
    console.log(`${provider}: not measured: ${probe.reason}`);
    return;
  }
  const cases: Case[] = [
    { residency: 'device', k: 1 },
    { residency: 'host', k: 1 },
    { residency: 'host', k: K },
  ];
  const results = await timeCases(provider, cases, m, rounds, warmup);
  const ms = results.map((r) => median(r.updateMs));
  cases.forEach(({ residency, k }, c) => {
    const r = results[c];
    const label = `${residency === 'device' ? 'state on the device' : 'state copied every run'}${k > 1 ? `, ${k} updates per run (Loop)` : ''}`;
    console.log(`${provider}, ${label}: ${ms[c].toFixed(2)} ms/update, ${r.toDevice} B to the device and ${r.toHost} B to the host per update`);
    const key = { bench: 'gpu', model, batch: spec.batch, provider, residency, k };
    figure({ ...key, figure: 'train_step_ms', value: ms[c], unit: 'ms' });
    figure({ ...key, figure: 'bytes_to_device', value: r.toDevice, unit: 'B/step' });
    figure({ ...key, figure: 'bytes_to_host', value: r.toHost, unit: 'B/step' });
  });
  const ratio = ms[1] / ms[0];
  console.log(`${provider}: copying the state every step takes ${ratio.toFixed(2)}x the device-resident step; ${provider}/cpu ${(ms[0] / cpuMs).toFixed(1)}x`);
  figure({ bench: 'gpu', figure: 'ratio', model, provider, value: ratio, unit: 'copy/resident' });
  figure({ bench: 'gpu', figure: 'ratio', model, provider, value: ms[0] / cpuMs, unit: `${provider}/cpu` });
}

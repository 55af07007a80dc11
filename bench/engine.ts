/**
 * `npm run bench -- engine [--quick] [--threads N] [--runs N] [--binding c-api|onnxruntime-node]`: one training step (forward, backward,
 * AdamW) of (a) an MLP 784-512-10, batch 256 and (b) a 4-layer pre-LN transformer LM (d 256, 4 heads,
 * FFN 1024, vocab 256, seq 128, batch 16), on onnxruntime CPU through o2o's worker-thread runner, and the
 * same models in PyTorch on CPU in the same run (the python from O2O_TORCH_PYTHON, else python3, when it
 * can import torch), both with the same number of intra-op threads. Also o2o's K-step mode (8 updates in
 * one ONNX Loop run), per update, against the torch steps run between its runs. Reports medians after 3
 * warm-up runs (--runs N: N runs of each model, default 30 for the MLP and 10 for the transformer), the
 * o2o/torch ratio of the medians and, more robust on a loaded machine, the median of the ratios of adjacent
 * o2o and torch steps and the ratio of the median CPU times per step, and peak resident memory (each
 * process's peak so far, o2o's taken after the single-step runs). With the runner on the C API (the default),
 * the same step through onnxruntime-node's binding is timed after, alternating with it.
 * --quick: small models and 3 runs, for the test that proves the bench works.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import os from 'node:os';
import { type Graph, type HostTensor, type Runner, type Tensor, adamw, buildTrainStep, hostTensor, openRunner, openTrainer } from '../src/engine/index.ts';
import type { Binding } from '../src/engine/ort-core.mjs';
import { Rng } from '../src/util/rng.ts';
import { layerNormStack, lmGraph, mlpGraph } from '../test/engine/models.ts';
import { type BenchArgs, figure, median } from './report.ts';

export interface Case {
  model: 'mlp' | 'transformer';
  mlp?: { sizes: number[]; batch: number };
  lm?: { vocab: number; dim: number; heads: number; layers: number; ffn: number; seq: number; batch: number };
}

const WARMUP = 3;

export function cases(quick: boolean): Case[] {
  return quick
    ? [
        { model: 'mlp', mlp: { sizes: [784, 64, 10], batch: 32 } },
        { model: 'transformer', lm: { vocab: 64, dim: 32, heads: 2, layers: 1, ffn: 64, seq: 16, batch: 2 } },
      ]
    : [
        { model: 'mlp', mlp: { sizes: [784, 512, 10], batch: 256 } },
        { model: 'transformer', lm: { vocab: 256, dim: 256, heads: 4, layers: 4, ffn: 1024, seq: 128, batch: 16 } },
      ];
}

function option(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench engine: ${name} expects an integer >= 1, got ${JSON.stringify(argv[i + 1])}`);
  return v;
}

/** The PyTorch models: build(case) returns one training step (zero_grad, forward, backward, AdamW step). */
export const TORCH_MODELS = String.raw`
import json, resource, sys, time, math
import torch
import torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1]))

class Block(torch.nn.Module):
    def __init__(s, d, h, f):
        super().__init__()
        s.h = h
        s.ln1, s.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        s.q, s.k, s.v = (torch.nn.Linear(d, d, bias=False) for _ in range(3))
        s.o, s.f1, s.f2 = torch.nn.Linear(d, d), torch.nn.Linear(d, f), torch.nn.Linear(f, d)
    def forward(s, x):
        B, T, D = x.shape
        h = s.ln1(x)
        sp = lambda t: t.view(B, T, s.h, D // s.h).transpose(1, 2)
        a = F.scaled_dot_product_attention(sp(s.q(h)), sp(s.k(h)), sp(s.v(h)), is_causal=True)
        x = x + s.o(a.transpose(1, 2).reshape(B, T, D))
        return x + s.f2(F.gelu(s.f1(s.ln2(x))))

class LM(torch.nn.Module):
    def __init__(s, c):
        super().__init__()
        s.tok, s.pos = torch.nn.Embedding(c["vocab"], c["dim"]), torch.nn.Embedding(c["seq"], c["dim"])
        s.blocks = torch.nn.ModuleList(Block(c["dim"], c["heads"], c["ffn"]) for _ in range(c["layers"]))
        s.lnf, s.out = torch.nn.LayerNorm(c["dim"]), torch.nn.Linear(c["dim"], c["vocab"], bias=False)
    def forward(s, ids):
        x = s.tok(ids) + s.pos(torch.arange(ids.shape[1]))
        for b in s.blocks:
            x = b(x)
        return s.out(s.lnf(x))

def build(c):
    torch.manual_seed(0)
    if c["model"] == "mlp":
        sz, B = c["mlp"]["sizes"], c["mlp"]["batch"]
        layers = []
        for i in range(len(sz) - 1):
            layers.append(torch.nn.Linear(sz[i], sz[i + 1]))
            if i + 2 < len(sz): layers.append(torch.nn.ReLU())
        m = torch.nn.Sequential(*layers)
        x, y = torch.randn(B, sz[0]), torch.randint(0, sz[-1], (B,))
        lossf = lambda: F.cross_entropy(m(x), y)
    else:
        l = c["lm"]
        m = LM(l)
        ids, tg = torch.randint(0, l["vocab"], (l["batch"], l["seq"])), torch.randint(0, l["vocab"], (l["batch"], l["seq"]))
        lossf = lambda: F.cross_entropy(m(ids).reshape(-1, l["vocab"]), tg.reshape(-1))
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    def step():
        opt.zero_grad(set_to_none=True)
        lossf().backward()
        opt.step()
    return step
`;

const TORCH_SCRIPT = `${TORCH_MODELS}
# one JSON command per stdin line: {"case": ...} builds a model; {"step": true} times one training step
print(json.dumps({"torch": torch.__version__}), flush=True)
step = None
for line in sys.stdin:
    cmd = json.loads(line)
    if "case" in cmd:
        step = build(cmd["case"])
        print(json.dumps({"ok": True}), flush=True)
    else:
        t0, c0 = time.perf_counter(), time.process_time(); step(); ms, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        print(json.dumps({"ms": ms, "cpu_ms": cpu, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
`;

export async function run(args: BenchArgs): Promise<void> {
  // `--provider webgpu|cuda`: the GPU bench (device-resident state vs copies every step), bench/gpu.ts.
  const provider = args.argv[args.argv.indexOf('--provider') + 1];
  if (args.argv.includes('--provider') && provider !== 'cpu') return (await import('./gpu.ts')).run(args);
  const threads = option(args.argv, '--threads', os.availableParallelism());
  const runsOf = (c: Case) => option(args.argv, '--runs', args.quick ? 3 : c.model === 'mlp' ? 30 : 10);
  const runs = runsOf(cases(args.quick)[1]);
  console.log(`engine: one training step (forward, backward, AdamW), ${threads} intra-op threads on both sides, medians of ${cases(args.quick).map((c) => `${runsOf(c)} runs (${c.model})`).join(', ')} after ${WARMUP} warm-up runs;`);
  console.log('o2o and torch steps alternate, so that both see the same load on the machine');
  const torch = await startTorch(threads);
  if (torch.why) console.log(`  torch reference skipped: ${torch.why}`);
  const bindingArg = args.argv.includes('--binding') ? args.argv[args.argv.indexOf('--binding') + 1] : undefined;
  const runner = await openRunner({ threads, ...(bindingArg ? { binding: bindingArg as Binding } : {}) });
  console.log(`o2o calls onnxruntime through ${runner.binding === 'c-api' ? "its C API (binding 'c-api')" : "onnxruntime-node's binding"}`);
  try {
    for (const c of cases(args.quick)) {
      const { model, batch } = prepare(c);
      const step = buildTrainStep(model.g, { loss: model.loss, optimizer: adamw() });
      const tr = await openTrainer(runner, step);
      await torch.call?.({ case: c });
      const mine: number[] = [], ref: number[] = [], mineCpu: number[] = [], refCpu: number[] = [];
      let refPeak = 0;
      for (let i = 0; i < WARMUP + runsOf(c); i++) {
        const t0 = performance.now(), c0 = process.cpuUsage();
        await tr.step(batch, 1e-4);
        if (i >= WARMUP) mine.push(performance.now() - t0);
        if (i >= WARMUP) mineCpu.push(cpuMs(process.cpuUsage(c0)));
        const r = await torch.call?.({ step: true });
        if (r && i >= WARMUP) ref.push(r.ms as number);
        if (r && i >= WARMUP) refCpu.push(r.cpu_ms as number);
        if (r) refPeak = r.peak_mb as number;
      }
      const peak = process.resourceUsage().maxRSS / 1024; // before the K-step session adds its own buffers
      // K-step mode: K updates inside one ONNX Loop run (the same batch K times), per update
      const K = 8;
      const stacked = Object.fromEntries(Object.entries(batch).map(([k, v]) => [k, stackK(v, K)]));
      // each Loop run is followed by K torch steps, so that the two per-update figures see the same load
      const lrs = new Array(K).fill(1e-4);
      await tr.steps(stacked, lrs);
      const loop: number[] = [], loopRef: number[] = [];
      for (let i = 0; i < Math.max(2, Math.ceil(runsOf(c) / 4)); i++) {
        const t0 = performance.now();
        await tr.steps(stacked, lrs);
        loop.push(performance.now() - t0);
        if (!torch.call) continue;
        let t = 0;
        for (let k = 0; k < K; k++) t += (await torch.call({ step: true })).ms as number;
        loopRef.push(t);
      }
      // the runner's binding against onnxruntime-node's (which copies every output), steps alternating
      const viaNode: number[] = [], viaMine: number[] = [];
      if (runner.binding !== 'onnxruntime-node') {
        const alt = await openRunner({ threads, binding: 'onnxruntime-node' });
        const trAlt = await openTrainer(alt, step);
        for (let i = 0; i < WARMUP + runsOf(c); i++) {
          for (const [t, into] of [[tr, viaMine], [trAlt, viaNode]] as const) {
            const t0 = performance.now();
            await t.step(batch, 1e-4);
            if (i >= WARMUP) into.push(performance.now() - t0);
          }
        }
        await trAlt.close();
        await alt.close();
      }
      await tr.close();
      await runner.deleteState(Object.keys(await runner.getState()));
      const ms = median(mine), msLoop = median(loop) / K;
      console.log(`  o2o   ${c.model.padEnd(12)} ${ms.toFixed(2)} ms/step   (K-step Loop, K=${K}: ${msLoop.toFixed(2)} ms/step)   peak RSS ${peak.toFixed(0)} MB`);
      figure({ bench: 'engine', figure: 'train_step_ms', model: c.model, threads, value: round(ms), unit: 'ms' });
      figure({ bench: 'engine', figure: 'train_step_ms', model: c.model, threads, mode: `loop${K}`, value: round(msLoop), unit: 'ms' });
      figure({ bench: 'engine', figure: 'peak_rss_mb', model: c.model, value: round(peak), unit: 'MB' });
      if (viaNode.length) {
        const bindingRatio = median(viaMine.map((x, i) => x / viaNode[i]));
        console.log(`  o2o   ${c.model.padEnd(12)} binding ${runner.binding} vs onnxruntime-node, alternating: ${median(viaMine).toFixed(2)} / ${median(viaNode).toFixed(2)} ms/step (median of adjacent-step ratios ${bindingRatio.toFixed(2)})`);
        figure({ bench: 'engine', figure: 'train_step_ms', model: c.model, threads, binding: 'onnxruntime-node', value: round(median(viaNode)), unit: 'ms' });
        figure({ bench: 'engine', figure: 'ratio', model: c.model, threads, stat: 'paired', value: round(bindingRatio), unit: `${runner.binding}/onnxruntime-node` });
      }
      if (!ref.length) continue;
      const t = median(ref);
      const paired = median(mine.map((x, i) => x / ref[i]));
      const cpuRatio = median(mineCpu) / median(refCpu);
      console.log(`  torch ${c.model.padEnd(12)} ${t.toFixed(2)} ms/step   peak RSS ${refPeak.toFixed(0)} MB   o2o/torch ${(ms / t).toFixed(2)} (median of adjacent-step ratios ${paired.toFixed(2)}; CPU time per step ${median(mineCpu).toFixed(1)} / ${median(refCpu).toFixed(1)} ms = ${cpuRatio.toFixed(2)})`);
      figure({ bench: 'engine', figure: 'train_step_ms', model: c.model, impl: `torch ${torch.version}`, threads, value: round(t), unit: 'ms' });
      figure({ bench: 'engine', figure: 'peak_rss_mb', model: c.model, impl: `torch ${torch.version}`, value: round(refPeak), unit: 'MB' });
      figure({ bench: 'engine', figure: 'ratio', model: c.model, threads, value: round(ms / t), unit: 'o2o/torch' });
      figure({ bench: 'engine', figure: 'ratio', model: c.model, threads, stat: 'paired', value: round(paired), unit: 'o2o/torch' });
      figure({ bench: 'engine', figure: 'ratio', model: c.model, threads, stat: 'cpu', value: round(cpuRatio), unit: 'o2o/torch' });
      const loopRatio = median(loop) / median(loopRef);
      console.log(`  K-step Loop (K=${K}) per update vs the torch steps run between its runs: ${msLoop.toFixed(2)} / ${(median(loopRef) / K).toFixed(2)} ms = ${loopRatio.toFixed(2)}`);
      figure({ bench: 'engine', figure: 'ratio', model: c.model, threads, mode: `loop${K}`, value: round(loopRatio), unit: 'o2o/torch' });
    }
    await layerNormFigure(runner, args.quick, runs, threads);
  } finally {
    await runner.close();
    torch.stop?.();
  }
}

/**
 * Why LayerNorm's forward is the fused opset-17 LayerNormalization (its backward is built from primitives):
 * a training step of 8 LayerNorms on [2048, 256], fused vs all-primitive forward, alternating.
 */
async function layerNormFigure(runner: Runner, quick: boolean, runs: number, threads: number): Promise<void> {
  const [rows, dim] = quick ? [64, 32] : [2048, 256];
  const x = hostTensor('float32', [rows, dim]);
  (x.data as Float32Array).forEach((_, i, a) => (a[i] = Math.sin(i)));
  const ms: Record<string, number[]> = { fused: [], primitive: [] };
  // the two models use the same state names, so the second gets a runner of its own
  const other = await openRunner({ threads });
  const trainers = [];
  for (const kind of ['fused', 'primitive'] as const) {
    const m = layerNormStack(rows, dim, 8, kind === 'fused');
    const tr = await openTrainer(kind === 'fused' ? runner : other, buildTrainStep(m.g, { loss: m.loss, optimizer: adamw() }));
    await tr.step({ x }, 1e-4);
    trainers.push({ kind, tr });
  }
  for (let i = 0; i < runs; i++) {
    for (const { kind, tr } of trainers) {
      const t0 = performance.now();
      await tr.step({ x }, 1e-4);
      ms[kind].push(performance.now() - t0);
    }
  }
  for (const { tr } of trainers) await tr.close();
  await other.close();
  const [f, p] = [median(ms.fused), median(ms.primitive)];
  console.log(`  layernorm x8 [${rows}, ${dim}] train step: fused forward ${f.toFixed(2)} ms, primitive forward ${p.toFixed(2)} ms`);
  figure({ bench: 'engine', figure: 'train_step_ms', model: 'layernorm8', impl: 'fused', threads, value: round(f), unit: 'ms' });
  figure({ bench: 'engine', figure: 'train_step_ms', model: 'layernorm8', impl: 'primitive', threads, value: round(p), unit: 'ms' });
}

export function prepare(c: Case): { model: { g: Graph; loss: Tensor }; batch: Record<string, HostTensor> } {
  const rng = new Rng(c.model);
  if (c.mlp) {
    const { sizes, batch: B } = c.mlp;
    const x = hostTensor('float32', [B, sizes[0]]);
    (x.data as Float32Array).forEach((_, i, a) => (a[i] = rng.normal()));
    return { model: mlpGraph(sizes, 1), batch: { x, y: hostTensor('int64', [B], Array.from({ length: B }, () => rng.int(sizes[sizes.length - 1]))) } };
  }
  const l = c.lm!;
  const tok = () => Array.from({ length: l.batch * l.seq }, () => rng.int(l.vocab));
  return {
    model: lmGraph({ vocab: l.vocab, dim: l.dim, heads: l.heads, layers: l.layers, ffn: l.ffn, maxSeq: l.seq }, 1),
    batch: { ids: hostTensor('int64', [l.batch, l.seq], tok()), targets: hostTensor('int64', [l.batch, l.seq], tok()) },
  };
}

interface Torch {
  why?: string;
  version?: string;
  call?: (cmd: object) => Promise<Record<string, unknown>>;
  stop?: () => void;
}

/** The PyTorch reference as a child process answering one JSON line per command. */
async function startTorch(threads: number): Promise<Torch> {
  const python = process.env.O2O_TORCH_PYTHON || 'python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error) return { why: `${python} could not run (${probe.error.message})` };
  if (probe.status !== 0) return { why: `${python} cannot import torch; set O2O_TORCH_PYTHON to a python that can` };
  const child = spawn(python, ['-c', TORCH_SCRIPT, String(threads)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`the torch reference (${python}) exited early`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  const hello = await next();
  return {
    version: String(hello.torch),
    call: async (cmd) => {
      child.stdin.write(`${JSON.stringify(cmd)}\n`);
      return next();
    },
    stop: () => child.stdin.end(),
  };
}

function stackK(t: HostTensor, K: number): HostTensor {
  const data = new (t.data.constructor as new (n: number) => HostTensor['data'])(t.data.length * K);
  for (let k = 0; k < K; k++) (data as Float32Array).set(t.data as Float32Array, k * t.data.length);
  return { dtype: t.dtype, shape: [K, ...t.shape], data };
}

/** CPU time of this process (all its threads: the runner's worker does the work), ms. */
function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

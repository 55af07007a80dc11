/**
 * Where a training step's time goes, o2o against PyTorch, from the two profilers in one run:
 *   O2O_TORCH_PYTHON=<python with torch> npx tsx tools/engine-profile.ts [--model transformer|mlp] [--steps N] [--threads N]
 * o2o: the bench's model (bench/engine.ts) as one step session with onnxruntime's profiler; every ONNX node
 * is named after what made it (an op, '<Op>.grad', 'gradient-sum', 'optimizer': src/engine/emit.ts), so its
 * kernel times add up per source. torch: the bench's torch model under torch.profiler, self CPU time per
 * aten op (the optimizer's ops counted under the optimizer). Profilers time each kernel by the wall clock,
 * which on a loaded machine also counts the time a kernel waits for a core (more for longer kernels, in
 * proportion): so each side's shares are scaled to its median CPU time per step, taken around unprofiled
 * steps. Profiled and unprofiled steps of the two sides alternate after 2 warm-up rounds.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import ort from 'onnxruntime-node';
import { TORCH_MODELS, cases, prepare } from '../bench/engine.ts';
import { median } from '../bench/report.ts';
import { adamw, buildTrainStep, hostTensor } from '../src/engine/index.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const model = opt('--model', 'transformer');
const steps = Number(opt('--steps', '5'));
const threads = Number(opt('--threads', '1'));
const c = cases(false).find((x) => x.model === model);
if (!c || !Number.isInteger(steps) || steps < 1 || !Number.isInteger(threads) || threads < 1) {
  throw new Error(`engine-profile: expected --model transformer|mlp, --steps N >= 1, --threads N >= 1; got ${argv.join(' ')}`);
}

/** The category of an onnxruntime node, from its name n<i>_<source>/<opType>[/<fusion>] and op type. */
function o2oCategory(name: string, opType: string): string {
  const source = name.replace(/^n\d+_/, '').split('/')[0];
  if (opType === 'Gemm') return 'linear products (Gemm)';
  if (opType === 'Transpose') return 'transposes';
  if (source.startsWith('Attention')) return 'attention (products, softmax, element-wise)';
  if (source.startsWith('Gelu')) return 'GELU';
  if (source.startsWith('LayerNorm')) return 'LayerNorm';
  if (source === 'optimizer') return 'optimizer (AdamW, grad norm)';
  return 'other';
}

const TORCH_PROFILE = `${TORCH_MODELS}
import collections
import torch.profiler as tp
step = build(json.loads(sys.argv[2]))
CATS = [("aten::mm", "linear products (Gemm)"), ("aten::addmm", "linear products (Gemm)"),
        ("aten::_scaled_dot_product", "attention (products, softmax, element-wise)"), ("aten::gelu", "GELU"),
        ("aten::native_layer_norm", "LayerNorm"), ("aten::copy_", "transposes"), ("aten::clone", "transposes")]
def category(e):
    p = e
    while p is not None:
        if p.name.startswith("Optimizer."):
            return "optimizer (AdamW, grad norm)"
        p = p.cpu_parent
    return next((c for k, c in CATS if e.name.startswith(k)), "other")
print("{}", flush=True)
for line in sys.stdin:
    if line.strip() == "cpu":
        c0 = time.process_time(); step(); print(json.dumps({"cpu_ms": (time.process_time() - c0) * 1000}), flush=True)
        continue
    with tp.profile(activities=[tp.ProfilerActivity.CPU]) as prof:
        step()
    agg = collections.defaultdict(float)
    for e in prof.events():
        agg[category(e)] += e.self_cpu_time_total / 1000
    print(json.dumps(agg), flush=True)
`;

async function main(): Promise<void> {
  const { model: m, batch } = prepare(c!);
  const step = buildTrainStep(m.g, { loss: m.loss, optimizer: adamw() });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-profile-'));
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    intraOpNumThreads: threads,
  };
  const onnx = step.single();
  const session = await ort.InferenceSession.create(onnx, { ...options, enableProfiling: true, profileFilePrefix: path.join(dir, 'o2o') });
  const plain = await ort.InferenceSession.create(onnx, options);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries({ ...step.initialState(), ...batch, lr: hostTensor('float32', [], [1e-4]) })) {
    feeds[k] = new ort.Tensor(v.dtype as 'float32', v.data as Float32Array, v.shape);
  }

  const python = process.env.O2O_TORCH_PYTHON || 'python3';
  const child = spawn(python, ['-c', TORCH_PROFILE, String(threads), JSON.stringify(c)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`the torch profile (${python}) exited early; set O2O_TORCH_PYTHON to a python that imports torch`);
    return JSON.parse(r.value) as Record<string, number>;
  };
  await next();
  const torch: Record<string, number> = {};
  const cpu = { o2o: [] as number[], torch: [] as number[] };
  for (let i = 0; i < steps + 2; i++) {
    await session.run(feeds);
    child.stdin.write('profile\n');
    const t = await next();
    const c0 = process.cpuUsage();
    await plain.run(feeds);
    const c = process.cpuUsage(c0);
    child.stdin.write('cpu\n');
    const tc = (await next()).cpu_ms;
    if (i < 2) continue;
    for (const [k, v] of Object.entries(t)) torch[k] = (torch[k] ?? 0) + v / steps;
    cpu.o2o.push((c.user + c.system) / 1000);
    cpu.torch.push(tc);
  }
  child.stdin.end();
  session.endProfiling();

  const file = fs.readdirSync(dir).map((f) => path.join(dir, f))[0];
  const events = JSON.parse(fs.readFileSync(file, 'utf8')) as { cat: string; name: string; ts: number; dur: number; args: { op_name?: string } }[];
  fs.rmSync(dir, { recursive: true });
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(2);
  const o2o: Record<string, number> = {};
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < runs[0].ts) continue;
    const k = o2oCategory(e.name.slice(0, -'_kernel_time'.length), e.args.op_name ?? '');
    o2o[k] = (o2o[k] ?? 0) + e.dur / 1000 / steps;
  }
  const run = runs.reduce((a, r) => a + r.dur / 1000, 0) / steps;
  const kernels = Object.values(o2o).reduce((a, b) => a + b, 0);
  o2o['other'] = (o2o['other'] ?? 0) + run - kernels;
  const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
  const [co, ct] = [median(cpu.o2o), median(cpu.torch)];
  const [so, st] = [co / total(o2o), ct / total(torch)];
  console.log(`${model}, ${threads} thread(s): CPU time per step (median of ${steps}) o2o ${co.toFixed(1)} ms, torch ${ct.toFixed(1)} ms, o2o/torch ${(co / ct).toFixed(3)};`);
  console.log(`per category: each side's profiled shares (mean of ${steps} steps) times its CPU time per step, ms; o2o's 'other' includes onnxruntime's time between kernels`);
  console.log(`${'category'.padEnd(46)} ${'o2o'.padStart(8)} ${'torch'.padStart(8)} ${'o2o share'.padStart(10)} ${'torch share'.padStart(12)}`);
  const keys = [...new Set([...Object.keys(o2o), ...Object.keys(torch)])].sort((a, b) => (o2o[b] ?? 0) - (o2o[a] ?? 0));
  for (const k of [...keys.filter((x) => x !== 'other'), 'other']) {
    const [a, b] = [o2o[k] ?? 0, torch[k] ?? 0];
    console.log(`${k.padEnd(46)} ${(a * so).toFixed(1).padStart(8)} ${(b * st).toFixed(1).padStart(8)} ${`${((100 * a) / total(o2o)).toFixed(1)}%`.padStart(10)} ${`${((100 * b) / total(torch)).toFixed(1)}%`.padStart(12)}`);
  }
}

await main();

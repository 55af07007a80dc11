/**
 * `npm run bench -- envs [--quick]`: env steps per second of each gym_cards task, with PNG rendering and
 * without, one env and a VecEnv of 16; the PNG encoder against pngjs on the same canvases; and remote envs
 * over loopback HTTP (one env, and 16 stepped concurrently). Uniform random action ids, auto-reset.
 * Medians of 5 timed runs after 1 warm-up (quick: 3 runs, few steps).
 */
import { PNG } from 'pngjs';
import { figure, median, timeRuns, type BenchArgs } from './report.ts';
import { GymCardsEnv } from '../src/envs/env.ts';
import { TASKS } from '../src/envs/registry.ts';
import { encodePng } from '../src/envs/render/png.ts';
import { RemoteEnv } from '../src/envs/remote/client.ts';
import { startEnvServer } from '../src/envs/remote/server.ts';
import type { Env } from '../src/envs/types.ts';
import { VecEnv } from '../src/envs/vec.ts';
import { Rng } from '../src/util/rng.ts';

async function stepsPerSecond(envs: Env[], steps: number, runs: number): Promise<number> {
  const vec = new VecEnv(envs);
  await vec.reset(envs.map((_, i) => i));
  const rng = new Rng(1);
  const n = envs[0] instanceof GymCardsEnv ? envs[0].def.actions.length : (envs[0] as RemoteEnv).actions.length;
  const ticks = Math.max(1, Math.round(steps / envs.length));
  const ms = await timeRuns(async () => {
    for (let t = 0; t < ticks; t++) await vec.step(envs.map(() => rng.int(n)));
  }, runs);
  return (ticks * envs.length) / (median(ms) / 1000);
}

export async function run(args: BenchArgs): Promise<void> {
  const runs = args.quick ? 3 : 5;
  const steps = args.quick ? 50 : 2000;
  console.log(`envs: steps/s, median of ${runs} runs after 1 warm-up, ${steps} steps per run`);
  for (const t of TASKS) {
    for (const render of [true, false]) {
      const one = await stepsPerSecond([new GymCardsEnv(t.name, { seed: 0, render })], steps, runs);
      figure({ bench: 'envs', figure: 'steps_per_s', task: t.name, envs: 1, render, value: Math.round(one), unit: 'steps/s' });
    }
    const vec = await stepsPerSecond(Array.from({ length: 16 }, (_, i) => new GymCardsEnv(t.name, { seed: i })), steps, runs);
    figure({ bench: 'envs', figure: 'steps_per_s', task: t.name, envs: 16, render: true, value: Math.round(vec), unit: 'steps/s' });
  }

  // the PNG encoder against pngjs on the same canvases (one per task)
  const canvases = TASKS.map((t) => { const e = new GymCardsEnv(t.name, { seed: 1, render: false }); e.resetSync(); return e.game.render(); });
  const reps = args.quick ? 5 : 100;
  const ours = median(await timeRuns(() => { for (let i = 0; i < reps; i++) for (const c of canvases) encodePng(c); }, runs)) / (reps * canvases.length);
  const theirs = median(await timeRuns(() => {
    for (let i = 0; i < reps; i++) {
      for (const c of canvases) {
        const png = new PNG({ width: c.width, height: c.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
        png.data = Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
        PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, deflateLevel: 3 }); // same level, pngjs' adaptive filters
      }
    }
  }, runs)) / (reps * canvases.length);
  figure({ bench: 'envs', figure: 'png_encode_ms', value: +ours.toFixed(3), unit: 'ms' });
  figure({ bench: 'envs', figure: 'png_encode_ms', impl: 'pngjs 7', value: +theirs.toFixed(3), unit: 'ms' });
  figure({ bench: 'envs', figure: 'ratio', value: +(ours / theirs).toFixed(3), unit: 'o2o/pngjs' });
  const sizes = canvases.map((c) => encodePng(c).length);
  figure({ bench: 'envs', figure: 'png_bytes', value: Math.round(sizes.reduce((a, b) => a + b) / sizes.length), unit: 'bytes' });

  // remote envs over loopback
  const server = await startEnvServer({ tasks: ['numberline'] });
  try {
    for (const n of [1, 16]) {
      const envs = await Promise.all(Array.from({ length: n }, (_, i) => RemoteEnv.create(server.url, { seed: i })));
      const sps = await stepsPerSecond(envs, args.quick ? 20 : 400, runs);
      figure({ bench: 'envs', figure: 'steps_per_s', task: 'numberline', envs: n, render: true, remote: true, value: Math.round(sps), unit: 'steps/s' });
      await Promise.all(envs.map((e) => e.close()));
    }
  } finally {
    await server.close();
  }
}

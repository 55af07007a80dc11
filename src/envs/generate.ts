/**
 * Offline datasets from scripted behaviour policies: episodes played in-process and appended to the store
 * with images, one commit per `batch` episodes (policy_version -1; source `demo` for an episode with
 * return > 0, `failure` otherwise, unless one source is given).
 *
 * Episode k is a pure function of (task, policy, noise, seed, k): its env and policy generators are seeded
 * from (seed, k). Episode ids are `<run>/<k>` with run = `gen-<task>-<policy>[-n<noise>]-s<seed>`; a
 * re-run finds the episodes of that run already in the table and continues after them, so an interrupted
 * run resumes where its last commit ended and nothing is written twice.
 */
import { rowsToBatch, type StepRow, type StepTable } from '../store/index.ts';
import { Progress } from '../util/progress.ts';
import { hashString, Rng } from '../util/rng.ts';
import { GymCardsEnv } from './env.ts';
import { actionStart } from './parser.ts';
import { makePolicy, type PolicyKind } from './policies/scripted.ts';
import { getTask } from './registry.ts';

export interface GenerateOptions {
  task: string;
  policy: PolicyKind;
  episodes: number;
  seed: number;
  /** noisy policy: probability of a wrong reading and of a wrong action per step */
  noise: number;
  /** one source for every episode instead of demo / failure */
  source?: string;
  /** episodes per commit */
  batch: number;
  quiet?: boolean;
}

export interface GenerateSummary { run: string; skipped: number; episodes: number; steps: number; successes: number; commits: number }

export function runName(o: Pick<GenerateOptions, 'task' | 'policy' | 'noise' | 'seed'>): string {
  return `gen-${getTask(o.task).name}-${o.policy}${o.policy === 'noisy' ? `-n${o.noise}` : ''}-s${o.seed}`;
}

/** The step rows of episode k. */
export function playEpisode(o: GenerateOptions, k: number, now = Date.now()): StepRow[] {
  const run = runName(o);
  const seed = hashString(`${run}/${k}`);
  const env = new GymCardsEnv(o.task, { seed });
  const policy = makePolicy(o.policy, new Rng(seed).fork('policy'), { pRead: o.noise, pAct: o.noise });
  let obs = env.resetSync();
  const rows: StepRow[] = [];
  for (let t = 0; ; t++) {
    const text = policy.act(env);
    const r = env.stepSync(text);
    rows.push({
      episode_id: `${run}/${k}`, step: t, task: env.def.id, source: '', policy_version: -1,
      obs_image: obs.image, obs_text: obs.text, output_text: text,
      output_tokens: null, output_logprobs: null, action_start: null, tokenizer: null,
      action_text: r.actionText, action_valid: r.actionValid, reward: r.reward,
      terminated: r.terminated, truncated: r.truncated, value: null,
      info: JSON.stringify({ policy: o.policy, action_char_start: actionStart(text), ...r.info }),
      created_at: now,
    });
    if (r.terminated || r.truncated) break;
    obs = r.obs;
  }
  const ret = rows.reduce((s, r) => s + r.reward, 0);
  for (const r of rows) r.source = o.source ?? (ret > 0 ? 'demo' : 'failure');
  return rows;
}

/** Plays the run's missing episodes and appends them to `table`. */
export async function generateToTable(table: StepTable, o: GenerateOptions): Promise<GenerateSummary> {
  const run = runName(o);
  const done = new Set<number>();
  const snap = await table.snapshot();
  for await (const b of snap.batches({ columns: ['episode_id'], filter: { task: getTask(o.task).id } })) {
    const ids = b.getChild('episode_id')!;
    for (let i = 0; i < b.numRows; i++) {
      const id = ids.get(i) as string;
      if (id.startsWith(`${run}/`)) done.add(Number(id.slice(run.length + 1)));
    }
  }
  const todo = Array.from({ length: o.episodes }, (_, k) => k).filter((k) => !done.has(k));
  const bar = new Progress({ label: `generate ${run}`, total: todo.length, unit: 'episodes', quiet: o.quiet });
  const sum: GenerateSummary = { run, skipped: o.episodes - todo.length, episodes: 0, steps: 0, successes: 0, commits: 0 };
  for (let i = 0; i < todo.length; i += o.batch) {
    const rows: StepRow[] = [];
    for (const k of todo.slice(i, i + o.batch)) {
      const ep = playEpisode(o, k);
      rows.push(...ep);
      sum.episodes++;
      sum.steps += ep.length;
      if (ep.reduce((s, r) => s + r.reward, 0) > 0) sum.successes++;
      bar.tick(1, `success ${((100 * sum.successes) / sum.episodes).toFixed(1)}%`);
    }
    await table.append([rowsToBatch(rows)], { operation: 'GENERATE', info: { run, policy: o.policy, noise: o.noise, seed: o.seed }, label: run });
    sum.commits++;
  }
  bar.finish();
  return sum;
}

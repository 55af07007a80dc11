/**
 * The actor loop: N environments (in-process or remote, same interface), one batched generation per tick,
 * env calls in flight bounded by a p-queue, and every finished rollout batch written to the store as ONE
 * commit. A rollout batch holds whole episodes only: each env starts episodes while the batch has fewer
 * than `steps` env steps, and finishes the episodes it started. Env seeds derive from (seed, batch index,
 * env index), so batch k is a pure function of the policy at k: a crash loses at most the batch in
 * flight, and a resumed run regenerates it identically.
 */
import type { RecordBatch } from 'apache-arrow';
import PQueue from 'p-queue';
import { rowsToBatch } from '../store/batch.ts';
import type { StepRow } from '../store/schema.ts';

/** What the policy sees at one env step. */
export interface Observation { text: string; image: Uint8Array | null }

export interface EnvStep {
  obs: Observation;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  /** the parsed legal action, and whether the parser found exactly one */
  actionText: string;
  actionValid: boolean;
}

/** One environment as the actor loop uses it; local envs and the remote-env client both fit. */
export interface ActorEnv {
  reset(seed: number): Promise<Observation>;
  step(outputText: string): Promise<EnvStep>;
}

/** One generated utterance with what off-policy learning needs (DESIGN decision 4). */
export interface Generation {
  text: string;
  /** [n] */ tokens: Int32Array;
  /** [n] behaviour log-probs (temperature-scaled) */ logprobs: Float32Array;
  actionStart: number;
  /** V(o) of the acting policy */ value: number;
}

export interface ActorPolicy {
  /** policy_version written with every row */
  version: number;
  tokenizer: string;
  /** One utterance per observation, sampled with a seeded generator keyed by `seed`. */
  generate(obs: Observation[], seed: number): Promise<Generation[]>;
  /** V(o) per observation (for bootstrapping truncated episodes). */
  value(obs: Observation[]): Promise<Float32Array>;
}

/** One step as the learner needs it (in memory), with the row that went to the store. */
export interface RolloutStep {
  row: StepRow;
  gen: Generation;
  /** V(final observation) when the step was truncated, else 0 */
  truncValue: number;
}

export interface RolloutBatch {
  /** episodes in order, each a list of steps */
  episodes: RolloutStep[][];
  envSteps: number;
  tokens: number;
  /** wall seconds spent in generation and in env calls */
  genSeconds: number;
  envSeconds: number;
}

export interface RolloutOptions {
  task: string;
  /** env steps to collect (at least; whole episodes) */
  steps?: number;
  /** or: exactly this many episodes */
  episodes?: number;
  seed: number;
  batchIndex: number;
  /** episode ids are `${runId}/b${batch}/e${env}.${k}` */
  runId: string;
  source?: string;
  /** env calls in flight at once (remote envs) */
  concurrency: number;
}

/** Collects one rollout batch. Rows are returned; the caller commits them (see `commitBatch`). */
export async function collectRollout(envs: ActorEnv[], policy: ActorPolicy, o: RolloutOptions): Promise<RolloutBatch> {
  const N = envs.length;
  const queue = new PQueue({ concurrency: o.concurrency });
  const episodes: RolloutStep[][] = [];
  const open: (RolloutStep[] | null)[] = new Array(N).fill(null);
  const obs: (Observation | null)[] = new Array(N).fill(null);
  const started = new Array(N).fill(0);
  let stepsStarted = 0, episodesStarted = 0, tokens = 0, genSeconds = 0, envSeconds = 0, tick = 0;
  if ((o.steps === undefined) === (o.episodes === undefined)) throw new Error('collectRollout: give either steps or episodes');
  const more = () => (o.episodes !== undefined ? episodesStarted < o.episodes : stepsStarted < o.steps!);
  const seedOf = (n: number, k: number) => (hash3(o.seed, o.batchIndex, n * 100003 + k) >>> 0);

  const startEpisodes = async () => {
    const t0 = performance.now();
    await Promise.all(envs.map((env, n) => queue.add(async () => {
      if (open[n] === null && more()) {
        stepsStarted++; // reserve at least one step for this episode
        episodesStarted++;
        obs[n] = await env.reset(seedOf(n, started[n]));
        open[n] = [];
      }
    })));
    envSeconds += (performance.now() - t0) / 1000;
  };

  await startEpisodes();
  while (open.some((e) => e !== null)) {
    const active = open.flatMap((e, n) => (e !== null ? [n] : []));
    const t0 = performance.now();
    const gens = await policy.generate(active.map((n) => obs[n]!), hash3(o.seed, o.batchIndex, 1_000_000 + tick++));
    genSeconds += (performance.now() - t0) / 1000;
    const t1 = performance.now();
    const results = await Promise.all(active.map((n, j) => queue.add(() => envs[n].step(gens[j].text))));
    envSeconds += (performance.now() - t1) / 1000;

    const truncated: { n: number; step: RolloutStep; obs: Observation }[] = [];
    active.forEach((n, j) => {
      const g = gens[j], r = results[j] as EnvStep, ep = open[n]!;
      const row = stepRow(o, n, started[n], ep.length, obs[n]!, g, r, policy);
      const step: RolloutStep = { row, gen: g, truncValue: 0 };
      ep.push(step);
      tokens += g.tokens.length;
      if (ep.length > 1) stepsStarted++;
      if (r.terminated || r.truncated) {
        if (r.truncated && !r.terminated) truncated.push({ n, step, obs: r.obs });
        episodes.push(ep);
        open[n] = null;
        started[n]++;
      } else {
        obs[n] = r.obs;
      }
    });
    if (truncated.length) {
      const v = await policy.value(truncated.map((t) => t.obs));
      truncated.forEach((t, j) => { t.step.truncValue = v[j]; });
    }
    await startEpisodes();
  }
  const envSteps = episodes.reduce((s, e) => s + e.length, 0);
  return { episodes, envSteps, tokens, genSeconds, envSeconds };
}

function stepRow(o: RolloutOptions, n: number, k: number, t: number, ob: Observation, g: Generation, r: EnvStep, policy: ActorPolicy): StepRow {
  return {
    episode_id: `${o.runId}/b${o.batchIndex}/e${n}.${k}`,
    step: t,
    task: o.task,
    source: o.source ?? 'online',
    policy_version: policy.version,
    obs_image: ob.image,
    obs_text: ob.text,
    output_text: g.text,
    output_tokens: g.tokens,
    output_logprobs: g.logprobs,
    action_start: g.actionStart,
    tokenizer: policy.tokenizer,
    action_text: r.actionText,
    action_valid: r.actionValid,
    reward: r.reward,
    terminated: r.terminated,
    truncated: r.truncated && !r.terminated,
    value: g.value,
    info: null,
    created_at: Date.now(),
  };
}

/** A 32-bit hash of three integers (seed derivation; not cryptographic). */
export function hash3(a: number, b: number, c: number): number {
  let h = 0x811c9dc5 ^ a;
  for (const x of [b, c]) {
    h = Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
    h ^= h >>> 12;
  }
  return h >>> 0;
}

/** Where rollout batches go: the store's table (src/store `StepTable`) fits. */
export interface BatchSink {
  append(batches: RecordBatch[], opts?: { operation?: string; info?: Record<string, unknown> }): Promise<{ version: number; rows: number }>;
  history(): Promise<Array<{ version: number; o2o?: unknown }>>;
}

/**
 * Writes one rollout batch as one commit, tagged {run, batch, policy_version} in the commit info. If the
 * table already holds that batch of that run (a crash after the commit, before the checkpoint), nothing is
 * written again: a resumed run regenerates the same batch, so the stored rows are already the right ones.
 */
export async function commitBatch(sink: BatchSink, batch: RolloutBatch, o: { runId: string; batchIndex: number; policyVersion: number }): Promise<{ version: number; rows: number; skipped: boolean }> {
  const tag = { run: o.runId, batch: o.batchIndex, policy_version: o.policyVersion };
  const done = (await sink.history()).find((h) => {
    const t = h.o2o as { run?: string; batch?: number } | undefined;
    return t?.run === o.runId && t?.batch === o.batchIndex;
  });
  if (done) return { version: done.version, rows: 0, skipped: true };
  const rows = batch.episodes.flat().map((s) => s.row);
  const r = await sink.append([rowsToBatch(rows)], { operation: 'ROLLOUT', info: tag });
  return { ...r, skipped: false };
}

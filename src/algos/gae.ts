/**
 * Generalised advantage estimation (Schulman et al. 2016) over a rollout of N envs × T steps, and the
 * advantage normalisation of RL4VLM (spec §2: γ = 0.9, λ_GAE = 0.95, normalised over the rollout).
 *
 * Layout: time-major, index t·N + n. Auto-reset envs: a step with `terminated` or `truncated` ends its
 * episode, and the next row of that env starts a new one.
 *   δ_t = r_t + γ·V_next − V(s_t),  A_t = δ_t + γλ·c_t·A_{t+1},  R_t = A_t + V(s_t)
 * where V_next = 0 on termination (a true terminal), V(final observation) on truncation (the time limit is
 * not part of the MDP, so the cut is bootstrapped), V(s_{t+1}) otherwise; c_t = 0 at any episode end.
 */
export interface GaeInput {
  /** [T·N] */ rewards: ArrayLike<number>;
  /** [T·N] V(s_t) of the acting policy */ values: ArrayLike<number>;
  /** [T·N] */ terminated: ArrayLike<boolean | number>;
  /** [T·N] */ truncated: ArrayLike<boolean | number>;
  /** [T·N] V(final observation) where truncated; read only there */ truncValues: ArrayLike<number>;
  /** [N] V(s_T) of the observation after the last step */ lastValues: ArrayLike<number>;
}

export function gae(x: GaeInput, gamma: number, lambda: number): { advantages: Float64Array; returns: Float64Array } {
  const N = x.lastValues.length;
  const TN = x.rewards.length;
  if (N === 0 || TN % N !== 0) throw new Error(`gae: expected rewards of length T·N with N = ${N}, got ${TN}`);
  for (const [name, a] of [['values', x.values], ['terminated', x.terminated], ['truncated', x.truncated], ['truncValues', x.truncValues]] as const) {
    if (a.length !== TN) throw new Error(`gae: ${name} has length ${a.length}, expected ${TN} (T·N)`);
  }
  const T = TN / N;
  const adv = new Float64Array(TN);
  const ret = new Float64Array(TN);
  const next = Float64Array.from(x.lastValues);
  const carry = new Float64Array(N); // A_{t+1} per env
  for (let t = T - 1; t >= 0; t--) {
    for (let n = 0; n < N; n++) {
      const i = t * N + n;
      let vNext = next[n];
      let cont = 1;
      if (x.terminated[i]) { vNext = 0; cont = 0; } else if (x.truncated[i]) { vNext = x.truncValues[i]; cont = 0; }
      const delta = x.rewards[i] + gamma * vNext - x.values[i];
      const a = delta + gamma * lambda * cont * carry[n];
      adv[i] = a;
      ret[i] = a + x.values[i];
      carry[n] = a;
      next[n] = x.values[i];
    }
  }
  return { advantages: adv, returns: ret };
}

/** Whether every episode has the same undiscounted return (then a batch carries no signal on the policy). */
export function uniformReturns(episodes: readonly (readonly { reward: number }[])[]): boolean {
  const ret = episodes.map((ep) => ep.reduce((s, x) => s + x.reward, 0));
  return ret.every((r) => Math.abs(r - ret[0]) < 1e-9);
}

/** (A − mean) / (std + 1e-8) over all entries (population std). */
export function normalizeAdvantages(a: ArrayLike<number>): Float64Array {
  const n = a.length;
  if (n === 0) return new Float64Array(0);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += a[i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (a[i] - mean) ** 2;
  const std = Math.sqrt(v / n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = (a[i] - mean) / (std + 1e-8);
  return out;
}

/**
 * GAE over whole episodes (a rollout batch of the actor loop, where no episode is cut by the batch end):
 * the episodes are laid end to end as one env (N = 1); each ends terminated or truncated, so nothing
 * crosses an episode boundary. Steps: per episode, in order. Returns advantages and returns per step.
 */
export function gaeEpisodes(
  episodes: readonly { reward: number; value: number; terminated: boolean; truncated: boolean; truncValue: number }[][],
  gamma: number, lambda: number,
): { advantages: Float64Array; returns: Float64Array } {
  const steps = episodes.flat();
  episodes.forEach((ep, k) => {
    const last = ep[ep.length - 1];
    if (!last || !(last.terminated || last.truncated)) throw new Error(`gaeEpisodes: episode ${k} does not end with terminated or truncated`);
  });
  return gae({
    rewards: steps.map((s) => s.reward),
    values: steps.map((s) => s.value),
    terminated: steps.map((s) => s.terminated),
    truncated: steps.map((s) => s.truncated && !s.terminated),
    truncValues: steps.map((s) => s.truncValue),
    lastValues: [0],
  }, gamma, lambda);
}

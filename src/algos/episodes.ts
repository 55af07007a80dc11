/**
 * Episode structure of a set of step rows, for the methods that need it: the row of the next env step
 * (TD targets), the episode's undiscounted return (filtered BC keeps episodes with return > 0, the
 * success criterion of spec §2), and whether the episode is complete.
 */
export interface StepKey {
  episode_id: string;
  step: number;
  reward: number;
  terminated: boolean;
  truncated: boolean;
}

export interface EpisodeLinks {
  /** [R] index of the next step's row, −1 at an episode's last row */
  next: Int32Array;
  /** [R] undiscounted return of the row's episode */
  episodeReturn: Float64Array;
  /** [R] true when the episode's last row is terminated or truncated */
  complete: Uint8Array;
  episodes: number;
}

/** Links rows into episodes. Steps of an episode must be 0..n−1 without gaps or repeats. */
export function linkEpisodes(rows: readonly StepKey[], where = 'dataset'): EpisodeLinks {
  const byEp = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const l = byEp.get(r.episode_id);
    if (l) l.push(i); else byEp.set(r.episode_id, [i]);
  });
  const R = rows.length;
  const next = new Int32Array(R).fill(-1);
  const episodeReturn = new Float64Array(R);
  const complete = new Uint8Array(R);
  for (const [id, idx] of byEp) {
    idx.sort((a, b) => rows[a].step - rows[b].step);
    idx.forEach((ri, k) => {
      if (rows[ri].step !== k) {
        throw new Error(`${where}: episode "${id}": expected step ${k}, found step ${rows[ri].step} (a step is missing or repeated)`);
      }
    });
    for (let k = 0; k < idx.length - 1; k++) {
      const r = rows[idx[k]];
      if (r.terminated || r.truncated) {
        throw new Error(`${where}: episode "${id}": step ${r.step} ends the episode but step ${r.step + 1} follows`);
      }
      next[idx[k]] = idx[k + 1];
    }
    const ret = idx.reduce((s, ri) => s + rows[ri].reward, 0);
    const last = rows[idx[idx.length - 1]];
    const done = last.terminated || last.truncated ? 1 : 0;
    for (const ri of idx) { episodeReturn[ri] = ret; complete[ri] = done; }
  }
  return { next, episodeReturn, complete, episodes: byEp.size };
}

/** Step-table columns that must be present and non-null for a method, checked with a clear error. */
export function requireColumns(
  have: (column: string) => boolean, needed: readonly string[], method: string, dataset: string,
): void {
  const missing = needed.filter((c) => !have(c));
  if (missing.length) {
    throw new Error(`${method} needs the column(s) ${missing.join(', ')}, which dataset "${dataset}" lacks (null in its rows). `
      + 'Import logs that carry them, or generate rollouts with o2o, or choose a method that does not need them.');
  }
}

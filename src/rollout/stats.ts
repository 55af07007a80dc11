/**
 * Episode statistics of rollouts and evaluations: success = undiscounted return > 0 (spec §2), the
 * invalid-action rate (steps whose output the parser could not map to exactly one legal action), and
 * 95% confidence intervals by the Wilson score interval (sound near 0 and 1, unlike the normal one).
 */
export interface Interval { value: number; lo: number; hi: number }

/** Wilson score interval for k successes in n trials (z = 1.96 for 95%). */
export function wilson(k: number, n: number, z = 1.96): Interval {
  if (!(n > 0)) return { value: NaN, lo: NaN, hi: NaN };
  const p = k / n, z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { value: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** Mean with a normal 95% interval (t ≈ z for the episode counts used here). */
export function meanInterval(xs: readonly number[], z = 1.96): Interval {
  const n = xs.length;
  if (n === 0) return { value: NaN, lo: NaN, hi: NaN };
  const m = xs.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1)) : 0;
  const h = (z * sd) / Math.sqrt(n);
  return { value: m, lo: m - h, hi: m + h };
}

export interface EpisodeResult { return: number; length: number; invalidSteps: number }

export interface EvalSummary {
  episodes: number;
  success: Interval;
  meanReturn: Interval;
  /** over steps */
  invalidAction: Interval;
  meanLength: number;
}

export function summarizeEpisodes(eps: readonly EpisodeResult[]): EvalSummary {
  const steps = eps.reduce((s, e) => s + e.length, 0);
  const invalid = eps.reduce((s, e) => s + e.invalidSteps, 0);
  return {
    episodes: eps.length,
    success: wilson(eps.filter((e) => e.return > 0).length, eps.length),
    meanReturn: meanInterval(eps.map((e) => e.return)),
    invalidAction: wilson(invalid, steps),
    meanLength: eps.length ? steps / eps.length : NaN,
  };
}

/** Success rate over the last `window` finished episodes (RL4VLM reports the last 200). */
export class RecentEpisodes {
  private readonly buf: EpisodeResult[] = [];
  constructor(private readonly window = 200) {}
  push(e: EpisodeResult): void {
    this.buf.push(e);
    if (this.buf.length > this.window) this.buf.shift();
  }
  get count(): number { return this.buf.length; }
  successRate(): number {
    return this.buf.length ? this.buf.filter((e) => e.return > 0).length / this.buf.length : NaN;
  }
  meanReturn(): number {
    return this.buf.length ? this.buf.reduce((s, e) => s + e.return, 0) / this.buf.length : NaN;
  }
}

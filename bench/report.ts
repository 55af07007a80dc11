/**
 * Reporting for benchmarks and experiments (../shared/BENCH.md): readable text on stderr-free stdout lines,
 * plus one JSON object per measured figure.
 */
export interface Figure {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  [key: string]: string | number | boolean;
}

export function figure(f: Figure): void {
  console.log(JSON.stringify(f));
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs fn `warmup` times untimed, then `runs` times; returns each run's milliseconds. */
export async function timeRuns(fn: () => unknown | Promise<unknown>, runs: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export interface BenchArgs {
  quick: boolean;
  /** Remaining command-line words after the bench name (e.g. ["--provider", "webgpu"]). */
  argv: string[];
}

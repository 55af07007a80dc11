/**
 * Learning-rate schedules, computed on the host: the step model takes `lr` as an input ([K] for the K-step
 * model), so a schedule is a function of the update number.
 */
export interface CosineSchedule {
  /** Peak learning rate. */
  lr: number;
  /** Updates of linear warm-up from lr / warmup to lr (0: none). */
  warmup: number;
  /** Update at which the cosine decay reaches `minLr` (and stays). */
  total: number;
  minLr: number;
}

/** Linear warm-up, then cosine decay to minLr; `step` counts updates from 0. */
export function cosineLr(s: CosineSchedule): (step: number) => number {
  if (!(s.warmup >= 0 && s.total > s.warmup && s.lr > 0 && s.minLr >= 0 && s.minLr <= s.lr)) {
    throw new Error(`cosineLr: expected lr > 0, 0 <= minLr <= lr, 0 <= warmup < total; got ${JSON.stringify(s)}`);
  }
  return (step) => {
    if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
    const t = Math.min(1, (step - s.warmup) / (s.total - s.warmup));
    return s.minLr + 0.5 * (s.lr - s.minLr) * (1 + Math.cos(Math.PI * t));
  };
}

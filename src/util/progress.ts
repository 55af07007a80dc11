/**
 * A progress bar for long work, written to stderr. On a terminal it redraws one line; elsewhere (CI, logs)
 * it prints a line at most every `logEveryMs` so that logs stay readable.
 */
export interface ProgressOptions {
  label: string;
  total?: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  logEveryMs?: number;
  /** Silence it (tests, --quiet). */
  quiet?: boolean;
}

export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private extra = '';
  private readonly stream: NodeJS.WriteStream;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
  }

  /** Advance by n units; `extra` is shown after the counts (e.g. "loss 0.31"). */
  tick(n = 1, extra?: string): void {
    this.done += n;
    if (extra !== undefined) this.extra = extra;
    this.draw(false);
  }

  set(done: number, extra?: string): void {
    this.done = done;
    if (extra !== undefined) this.extra = extra;
    this.draw(false);
  }

  finish(extra?: string): void {
    if (extra !== undefined) this.extra = extra;
    this.draw(true);
    if (!this.opts.quiet && this.stream.isTTY) this.stream.write('\n');
  }

  private draw(force: boolean): void {
    if (this.opts.quiet) return;
    const now = Date.now();
    const tty = this.stream.isTTY;
    const every = tty ? 100 : (this.opts.logEveryMs ?? 5000);
    if (!force && now - this.lastDraw < every) return;
    this.lastDraw = now;
    const secs = (now - this.start) / 1000;
    const rate = this.done / Math.max(secs, 1e-9);
    const unit = this.opts.unit ?? 'it';
    const { total } = this.opts;
    let line = `${this.opts.label} `;
    if (total !== undefined && total > 0) {
      const frac = Math.min(1, this.done / total);
      const width = 24;
      const fill = Math.round(frac * width);
      const eta = rate > 0 ? (total - this.done) / rate : NaN;
      line += `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${this.done}/${total} ${unit}`;
      line += ` ${rate.toFixed(1)} ${unit}/s ${secs.toFixed(0)}s${Number.isFinite(eta) ? ` eta ${eta.toFixed(0)}s` : ''}`;
    } else {
      line += `${this.done} ${unit} ${rate.toFixed(1)} ${unit}/s ${secs.toFixed(0)}s`;
    }
    if (this.extra) line += ` ${this.extra}`;
    this.stream.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }
}

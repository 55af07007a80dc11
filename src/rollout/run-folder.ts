/**
 * A training run's folder: `config.json` (frozen at the first start; a resume with other settings is
 * refused), `metrics.jsonl` (one JSON object per logged step), and `checkpoints/step-NNNNNNNNN.*`
 * (weights from the engine + `.json` loop state). Files are written to a temporary name and renamed, so a
 * crash leaves either the old or the new file. Resuming truncates the metrics to the resumed step, so the
 * metrics of a resumed run equal those of an uninterrupted one.
 */
import fs from 'node:fs';
import path from 'node:path';

export class RunFolder {
  readonly dir: string;
  readonly ckptDir: string;
  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.ckptDir = path.join(this.dir, 'checkpoints');
  }

  /** Creates the folder, or checks that an existing run has the same config. */
  init(config: unknown): void {
    fs.mkdirSync(this.ckptDir, { recursive: true });
    const file = path.join(this.dir, 'config.json');
    const text = JSON.stringify(config, null, 2);
    if (fs.existsSync(file)) {
      const old = fs.readFileSync(file, 'utf8');
      if (old !== text) {
        throw new Error(`${file}: this run folder was started with other settings; resume with the same options or choose a new --out.\n`
          + `was: ${JSON.stringify(JSON.parse(old))}\nnow: ${JSON.stringify(config)}`);
      }
    } else {
      writeAtomic(file, text);
    }
  }

  ckptPath(step: number, ext: string): string {
    return path.join(this.ckptDir, `step-${String(step).padStart(9, '0')}${ext}`);
  }

  /** Steps of complete checkpoints (both the weights and the `.json` state exist), ascending. */
  checkpoints(weightsExt = '.safetensors'): number[] {
    if (!fs.existsSync(this.ckptDir)) return [];
    return fs.readdirSync(this.ckptDir)
      .map((f) => /^step-(\d{9})\.json$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .filter((s) => fs.existsSync(this.ckptPath(s, weightsExt)))
      .sort((a, b) => a - b);
  }

  writeState(step: number, state: unknown): void {
    writeAtomic(this.ckptPath(step, '.json'), JSON.stringify(state));
  }

  readState<T>(step: number): T {
    return JSON.parse(fs.readFileSync(this.ckptPath(step, '.json'), 'utf8')) as T;
  }

  /** Drops metric lines whose `step` is after `step` (resume), keeping the file otherwise as it was. */
  truncateMetrics(step: number): void {
    const file = path.join(this.dir, 'metrics.jsonl');
    if (!fs.existsSync(file)) return;
    const keep = fs.readFileSync(file, 'utf8').split('\n').filter((l) => {
      if (!l.trim()) return false;
      try { return (JSON.parse(l) as { step: number }).step <= step; } catch { return false; } // a torn last line
    });
    writeAtomic(file, keep.map((l) => `${l}\n`).join(''));
  }

  logMetrics(m: Record<string, number | string>): void {
    fs.appendFileSync(path.join(this.dir, 'metrics.jsonl'), `${JSON.stringify(m)}\n`);
  }

  readMetrics(): Record<string, number>[] {
    const file = path.join(this.dir, 'metrics.jsonl');
    if (!fs.existsSync(file)) return [];
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  }
}

export function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

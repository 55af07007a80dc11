/**
 * A step table on disk (`<root>/<dataset>/`): appends as Delta commits, snapshots, history and vacuum.
 *
 * Append = validate every row and write part files (in workers, while the input streams in), check
 * episode integrity against the table, then create the next log entry exclusively; when another writer
 * took that version, re-read the log, re-check episodes against what it added, and retry. A writer that
 * dies before its log entry exists leaves only unreferenced part files (removed by `vacuum`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { RecordBatch } from 'apache-arrow';
import { commitExclusive, checkWritable, listVersions, loadState, LOG_DIR, readCommit, readHistory, type TableState } from './log.ts';
import { createActions, decodePath, type Action, type CommitInfo } from './delta.ts';
import { PartWriter } from './parts.ts';
import { episodeProblems, validateBatch, type StepKey } from './validate.ts';
import { RejectedError, TableError, type Problem } from './problems.ts';
import { readFile, snapshotFile, type SnapshotFile } from './read.ts';
import { Snapshot } from './snapshot.ts';
import { compareUtf8 } from './delta.ts';

export interface AppendOptions {
  /** The commitInfo operation (default "WRITE"). */
  operation?: string;
  /** Free-form facts stored in commitInfo under "o2o" (e.g. the import's source files, the policy version). */
  info?: Record<string, unknown>;
  /** The name problems give as their file (default "append"); rows are numbered 1.. across the input. */
  label?: string;
}

/** One entry of `history()`: the version and its commitInfo. */
export type HistoryEntry = { version: number } & CommitInfo;

export interface StepTable {
  /** `<root>/<dataset>`. */
  readonly dir: string;
  /**
   * Appends step rows as one commit. Throws RejectedError (listing every problem, committing nothing) on
   * bad rows, duplicate (episode_id, step) within the input or against the table, or steps with gaps.
   */
  append(batches: RecordBatch[] | AsyncIterable<RecordBatch>, opts?: AppendOptions): Promise<{ version: number; rows: number }>;
  /** The table at `version` (latest when absent); the file list comes from the log only. */
  snapshot(version?: number): Promise<Snapshot>;
  /** Every commit, oldest first. */
  history(): Promise<HistoryEntry[]>;
  /**
   * Removes part files that no commit references, if older than `retentionMs` (default one hour, so that
   * a writer between writing parts and committing is not robbed). Returns their paths relative to `dir`.
   */
  vacuum(opts?: { dryRun?: boolean; retentionMs?: number }): Promise<string[]>;
}

const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Opens `<root>/<dataset>`; with `create`, makes an empty table (commit 0) when there is none. */
export async function openTable(root: string, dataset: string, opts: { create?: boolean } = {}): Promise<StepTable> {
  if (!DATASET_NAME.test(dataset)) {
    throw new TableError(`expected a dataset name of letters, digits, ".", "_" or "-" (not starting with a dot), got ${JSON.stringify(dataset)}`);
  }
  const dir = path.join(root, dataset);
  const logDir = path.join(dir, LOG_DIR);
  if (!fs.existsSync(logDir) || listVersions(dir).length === 0) {
    if (!opts.create) {
      throw new TableError(`no dataset ${JSON.stringify(dataset)} under ${root} (expected ${logDir}). Import one with \`o2o ingest … --dataset ${dataset}\` or pass the right --root.`);
    }
    fs.mkdirSync(logDir, { recursive: true });
    commitExclusive(dir, 0, createActions(randomUUID(), Date.now())); // false: another process created it first
  }
  loadState(dir); // refuses unknown protocol / schema versions now rather than later
  return new DeltaStepTable(dir);
}

// (episode_id, step) of a part file, read once per process: part files never change.
const keyCache = new Map<string, Map<string, number[]>>();

async function fileKeys(f: SnapshotFile): Promise<Map<string, number[]>> {
  let keys = keyCache.get(f.file);
  if (!keys) {
    keys = new Map();
    for (const { batch } of await readFile(f, ['episode_id', 'step'], undefined)) {
      const ids = batch.getChild('episode_id')!;
      const steps = batch.getChild('step')!.data[0].values as Int32Array;
      for (let i = 0; i < batch.numRows; i++) {
        const id = ids.get(i) as string;
        let l = keys.get(id);
        if (!l) keys.set(id, (l = []));
        l.push(steps[i]);
      }
    }
    keyCache.set(f.file, keys);
  }
  return keys;
}

class DeltaStepTable implements StepTable {
  constructor(readonly dir: string) {}

  async snapshot(version?: number): Promise<Snapshot> {
    const state = loadState(this.dir, version);
    return new Snapshot(this.dir, state.version, [...state.files.values()].map((a) => snapshotFile(this.dir, a)));
  }

  async history(): Promise<HistoryEntry[]> {
    return readHistory(this.dir);
  }

  async append(input: RecordBatch[] | AsyncIterable<RecordBatch>, opts: AppendOptions = {}): Promise<{ version: number; rows: number }> {
    let state = loadState(this.dir);
    checkWritable(state, this.dir);
    const label = opts.label ?? 'append';
    const writer = new PartWriter(this.dir);
    const problems: Problem[] = [];
    const keys: StepKey[] = [];
    let rows = 0;
    try {
      for await (const batch of input) {
        const found = validateBatch(batch, label, rows + 1);
        problems.push(...found);
        if (!found.length) collectKeys(batch, label, rows + 1, keys);
        if (!problems.length) await writer.push(batch);
        rows += batch.numRows;
      }
      if (!problems.length) await writer.flush();
      if (!problems.length) problems.push(...episodeProblems(keys, await this.existingSteps([...state.files.values()].map((a) => snapshotFile(this.dir, a)), keys)));
      if (problems.length) throw new RejectedError(problems);
      if (rows === 0) return { version: state.version, rows: 0 };
      for (;;) {
        const version = state.version + 1;
        const actions: Action[] = [
          ...writer.adds.map((add) => ({ add })),
          {
            commitInfo: {
              timestamp: Date.now(), operation: opts.operation ?? 'WRITE',
              operationParameters: { mode: 'Append', partitionBy: JSON.stringify(['task']) },
              readVersion: state.version, isBlindAppend: true, engineInfo: 'o2o',
              operationMetrics: { numFiles: String(writer.adds.length), numOutputRows: String(rows), numOutputBytes: String(writer.adds.reduce((s, a) => s + a.size, 0)) },
              ...(opts.info ? { o2o: opts.info } : {}),
            },
          },
        ];
        if (commitExclusive(this.dir, version, actions)) return { version, rows };
        // Another writer committed `version`: check what it (and any later commit) added, then retry.
        const newer = loadState(this.dir);
        checkWritable(newer, this.dir);
        const added = [...newer.files.values()].filter((a) => !state.files.has(a.path)).map((a) => snapshotFile(this.dir, a));
        const clash = episodeProblems(keys, await this.existingSteps(added, keys));
        if (clash.length) throw new RejectedError(clash, 'the append (conflicting with a concurrent commit)');
        state = newer;
      }
    } catch (e) {
      await writer.discard();
      throw e;
    }
  }

  /** Steps already stored for the episodes among `keys`, from files whose episode_id range overlaps. */
  private async existingSteps(files: SnapshotFile[], keys: StepKey[]): Promise<Map<string, { task: string; steps: Set<number> }>> {
    const out = new Map<string, { task: string; steps: Set<number> }>();
    if (!keys.length) return out;
    const wanted = new Set(keys.map((k) => k.episode_id));
    let lo = keys[0].episode_id; let hi = lo;
    for (const id of wanted) { if (compareUtf8(id, lo) < 0) lo = id; if (compareUtf8(id, hi) > 0) hi = id; }
    const overlapping = files.filter((f) => {
      const a = f.stats.minValues.episode_id as string | undefined;
      const b = f.stats.maxValues.episode_id as string | undefined;
      return a === undefined || b === undefined || (compareUtf8(a, hi) <= 0 && compareUtf8(b, lo) >= 0);
    });
    const maps = await Promise.all(overlapping.map((f) => fileKeys(f)));
    maps.forEach((m, i) => {
      for (const [id, steps] of m) {
        if (!wanted.has(id)) continue;
        let e = out.get(id);
        if (!e) out.set(id, (e = { task: overlapping[i].task, steps: new Set() }));
        for (const s of steps) e.steps.add(s);
      }
    });
    return out;
  }

  async vacuum(opts: { dryRun?: boolean; retentionMs?: number } = {}): Promise<string[]> {
    const referenced = new Set<string>();
    for (const v of listVersions(this.dir)) {
      for (const a of readCommit(this.dir, v)) {
        if ('add' in a) referenced.add(decodePath(a.add.path));
        if ('remove' in a) referenced.add(decodePath(a.remove.path));
      }
    }
    const cutoff = Date.now() - (opts.retentionMs ?? 3_600_000);
    const removed: string[] = [];
    const walk = (rel: string) => {
      for (const ent of fs.readdirSync(path.join(this.dir, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${ent.name}` : ent.name;
        if (ent.isDirectory()) { if (r !== LOG_DIR) walk(r); continue; }
        if (!ent.name.endsWith('.parquet') || referenced.has(r)) continue;
        if (fs.statSync(path.join(this.dir, r)).mtimeMs > cutoff) continue;
        removed.push(r);
        if (!opts.dryRun) fs.rmSync(path.join(this.dir, r));
      }
    };
    walk('');
    return removed.sort();
  }
}

/** The (episode_id, step, task) of each row of a batch whose key columns are well typed. */
function collectKeys(batch: RecordBatch, file: string, firstRow: number, out: StepKey[]): void {
  const ids = batch.getChild('episode_id');
  const steps = batch.getChild('step');
  const tasks = batch.getChild('task');
  if (!ids || !steps || !tasks) return;
  for (let i = 0; i < batch.numRows; i++) {
    out.push({ episode_id: ids.get(i) as string, step: steps.get(i) as number, task: tasks.get(i) as string, file, row: firstRow + i });
  }
}

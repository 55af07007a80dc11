/**
 * The commit log `_delta_log/`: listing versions (reporting foreign files), reading commits (reporting
 * torn ones), replaying them into a table state, and committing a version exclusively.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TableError } from './problems.ts';
import {
  READER_VERSION, SCHEMA_VERSION_KEY, WRITER_VERSION, logName, schemaString,
  type Action, type AddAction, type CommitInfo, type MetaDataAction, type ProtocolAction,
} from './delta.ts';
import { PARTITION_COLUMN, SCHEMA_VERSION } from './schema.ts';

export const LOG_DIR = '_delta_log';

/** The replayed log at one version: the live files (by `add.path`) and the table's protocol and metadata. */
export interface TableState {
  version: number;
  protocol: ProtocolAction;
  metaData: MetaDataAction;
  files: Map<string, AddAction>;
}

const COMMIT = /^(\d{20})\.json$/;
// Other files the Delta protocol puts in the log; o2o neither writes nor needs them.
const KNOWN = [/^_last_checkpoint$/, /^\d{20}\.checkpoint(\.\d+\.\d+)?\.parquet$/, /^\d{20}\.crc$/, /^\d{20}\.\d{20}\.compacted\.json$/, /^_commits$/, /^_sidecars$/];

/** The committed versions 0..N in order. Throws on a foreign file or a gap in the numbering. */
export function listVersions(tableDir: string): number[] {
  const logDir = path.join(tableDir, LOG_DIR);
  const versions: number[] = [];
  const foreign: string[] = [];
  for (const name of fs.readdirSync(logDir)) {
    const m = COMMIT.exec(name);
    if (m) versions.push(Number(m[1]));
    else if (!name.startsWith('.') && !KNOWN.some((k) => k.test(name))) foreign.push(name);
  }
  if (foreign.length) {
    throw new TableError(`${logDir} holds file(s) that are not Delta log entries: ${foreign.join(', ')}. `
      + 'Something other than a Delta writer put them there; move them out of the log folder to read the table.');
  }
  versions.sort((a, b) => a - b);
  versions.forEach((v, i) => {
    if (v !== i) {
      throw new TableError(`${logDir}: log entry ${logName(i)} is missing (found ${logName(v)} next). `
        + 'o2o cannot replay a log with a gap (checkpoint-only logs are not supported).');
    }
  });
  return versions;
}

const parsed = new Map<string, Action[]>();

/** The actions of one commit; a torn or foreign (unparseable) entry is an error naming file and line. */
export function readCommit(tableDir: string, version: number): Action[] {
  const file = path.join(tableDir, LOG_DIR, logName(version));
  // Entries never change once committed; the stat guards the cache against one replaced by hand.
  const st = fs.statSync(file);
  const cacheKey = `${file}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
  const hit = parsed.get(cacheKey);
  if (hit) return hit;
  const text = fs.readFileSync(file, 'utf8');
  const actions: Action[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      throw new TableError(`${file}:${i + 1}: expected a JSON action, got ${JSON.stringify(line.slice(0, 40))}${line.length > 40 ? '...' : ''} `
        + `(a torn or foreign write). Versions up to ${version - 1} are readable (--version ${version - 1}); `
        + 'move this file out of the log to read past it.');
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj) || Object.keys(obj).length !== 1) {
      throw new TableError(`${file}:${i + 1}: expected one Delta action object per line, got ${JSON.stringify(line.slice(0, 60))}`);
    }
    actions.push(obj as Action);
  });
  if (text.length && !text.endsWith('\n') && lines.length === 1 && actions.length === 0) {
    throw new TableError(`${file}: empty log entry`);
  }
  parsed.set(cacheKey, actions);
  return actions;
}

function checkProtocol(p: ProtocolAction, file: string): void {
  if (p.minReaderVersion > READER_VERSION || p.readerFeatures?.length) {
    throw new TableError(`${file}: the table needs Delta reader version ${p.minReaderVersion}${p.readerFeatures?.length ? ` with features ${p.readerFeatures.join(', ')}` : ''}; `
      + `o2o reads version ${READER_VERSION} only. Open it with a newer Delta engine.`);
  }
}

function checkMetaData(m: MetaDataAction, file: string): void {
  const v = m.configuration?.[SCHEMA_VERSION_KEY];
  if (v === undefined) {
    throw new TableError(`${file}: expected configuration "${SCHEMA_VERSION_KEY}" in the table metadata, got none: this is not an o2o step table.`);
  }
  if (v !== String(SCHEMA_VERSION)) {
    throw new TableError(`${file}: the table has step schema version ${JSON.stringify(v)}; this o2o reads version ${SCHEMA_VERSION}. `
      + 'Use the o2o release that wrote it, or re-import the data.');
  }
  if (JSON.stringify(m.partitionColumns) !== JSON.stringify([PARTITION_COLUMN]) || m.schemaString !== schemaString()) {
    throw new TableError(`${file}: expected the step schema (version ${SCHEMA_VERSION}) partitioned by ${PARTITION_COLUMN}, `
      + 'got a different schema string or partitioning: the table was changed by another writer.');
  }
}

/** Replays commits 0..version (latest when absent) into the live file set, checking protocol and schema version. */
export function loadState(tableDir: string, version?: number): TableState {
  const versions = listVersions(tableDir);
  if (versions.length === 0) throw new TableError(`${path.join(tableDir, LOG_DIR)}: no commits (not a table yet)`);
  const last = versions[versions.length - 1];
  const target = version ?? last;
  if (!Number.isInteger(target) || target < 0 || target > last) {
    throw new TableError(`${tableDir}: expected a version in 0..${last}, got ${version}`);
  }
  let protocol: ProtocolAction | undefined;
  let metaData: MetaDataAction | undefined;
  const files = new Map<string, AddAction>();
  for (let v = 0; v <= target; v++) {
    const file = path.join(tableDir, LOG_DIR, logName(v));
    for (const a of readCommit(tableDir, v)) {
      if ('protocol' in a) { checkProtocol(a.protocol, file); protocol = a.protocol; }
      else if ('metaData' in a) { checkMetaData(a.metaData, file); metaData = a.metaData; }
      else if ('add' in a) files.set(a.add.path, a.add);
      else if ('remove' in a) files.delete(a.remove.path);
    }
    if (!protocol || !metaData) throw new TableError(`${file}: expected protocol and metaData in the first commit, got ${protocol ? '' : 'no protocol '}${metaData ? '' : 'no metaData'}`);
  }
  return { version: target, protocol: protocol!, metaData: metaData!, files };
}

/** Refuses to write a table whose protocol asks more of writers than writer version 2. */
export function checkWritable(state: TableState, tableDir: string): void {
  const p = state.protocol;
  if (p.minWriterVersion > WRITER_VERSION || p.writerFeatures?.length) {
    throw new TableError(`${tableDir}: the table needs Delta writer version ${p.minWriterVersion}; o2o writes version ${WRITER_VERSION} only.`);
  }
}

/** The commitInfo of each version, oldest first. */
export function readHistory(tableDir: string): Array<{ version: number } & CommitInfo> {
  return listVersions(tableDir).map((v) => {
    const info = readCommit(tableDir, v).find((a): a is { commitInfo: CommitInfo } => 'commitInfo' in a)?.commitInfo;
    return { version: v, ...(info ?? { timestamp: 0, operation: 'UNKNOWN' }) };
  });
}

/**
 * Creates log entry `version` with `actions` if no one else has: the text goes to a hidden temp file
 * first, which is then hard-linked to the entry's name (fails if it exists), so that a reader never sees
 * a half-written entry. Returns false when the version was taken by another writer.
 */
export function commitExclusive(tableDir: string, version: number, actions: Action[]): boolean {
  const logDir = path.join(tableDir, LOG_DIR);
  const tmp = path.join(logDir, `.o2o-${randomUUID()}.json.tmp`);
  const fd = fs.openSync(tmp, 'wx');
  try {
    fs.writeSync(fd, actions.map((a) => JSON.stringify(a)).join('\n') + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, path.join(logDir, logName(version)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const dirFd = fs.openSync(logDir, 'r');
  try { fs.fsyncSync(dirFd); } finally { fs.closeSync(dirFd); }
  return true;
}

/**
 * Problems found in input rows, and the errors the store throws. A problem names the file, the row
 * (1-based line or row number in that file), the field, what was expected and what arrived.
 */
export interface Problem {
  file: string;
  row: number;
  field: string;
  expected: string;
  got: string;
}

/** `steps.jsonl:118: reward: expected a finite number, got "NaN"` */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.row}: ${p.field}: expected ${p.expected}, got ${p.got}`;
}

/** A short, readable description of a value for a problem's `got` (strings quoted, bytes by length). */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? 'an object' : typeof v;
}

/** An append (or import) that was rejected: nothing was committed. `problems` lists every bad row. */
export class RejectedError extends Error {
  constructor(readonly problems: Problem[], what = 'the append') {
    const shown = problems.slice(0, 20).map(formatProblem);
    const more = problems.length > shown.length ? `\n... and ${problems.length - shown.length} more` : '';
    super(`${what} was rejected (${problems.length} problem${problems.length === 1 ? '' : 's'}); nothing was committed. Fix the rows below and retry.\n${shown.join('\n')}${more}`);
    this.name = 'RejectedError';
  }
}

/** The table on disk is not one this reader can trust (unknown version, torn or foreign log file, …). */
export class TableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TableError';
  }
}

/**
 * What every importer hands to the ingest driver: candidate step rows with their location in the source,
 * or problems found while reading (a line that is not JSON, a column of the wrong type, an image that
 * cannot be had). The driver validates every candidate against the step schema and commits all or nothing.
 */
import type { Problem } from '../store/problems.ts';

export const FORMATS = ['jsonl', 'parquet', 'arrow', 'minari', 'lerobot', 'rl4vlm'] as const;
export type FormatName = (typeof FORMATS)[number];

/** A candidate row: `values` holds step-table fields (missing ones are filled by `completeRow`). */
export interface FoundRow {
  kind: 'row';
  /** Path of the source file as shown in problems (relative to the working directory when inside it). */
  file: string;
  /** 1-based line (text formats) or row (columnar formats) in `file`. */
  row: number;
  values: Record<string, unknown>;
}

export interface FoundProblem {
  kind: 'problem';
  problem: Problem;
}

export type Found = FoundRow | FoundProblem;

/** Settings an importer needs from the command line. */
export interface ReadContext {
  /** `--task`: the task of rows whose source does not name one. */
  task?: string;
  /** `--map source_column=step_field`, for Parquet / Arrow inputs. */
  map: Record<string, string>;
  /** How a file is named in problems. */
  display(file: string): string;
}

export interface Importer {
  format: FormatName;
  /** Reads one input (a file, or a dataset folder for Minari and LeRobot). Streams: rows as they are read. */
  read(input: string, ctx: ReadContext): AsyncIterable<Found>;
}

export function problem(file: string, row: number, field: string, expected: string, got: string): FoundProblem {
  return { kind: 'problem', problem: { file, row, field, expected, got } };
}

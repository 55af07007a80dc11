/**
 * The step table, declared once (../shared/spec/datasets.md). One row per environment step.
 *
 * The Arrow schema below is the single source: the Parquet writer, the reader, the row validator, the Delta
 * schema string and the TypeScript row type (`StepRow`) are all derived from `STEP_FIELDS`.
 */
import {
  Binary, Bool, Dictionary, Field, Float32, Int32, List, Schema, TimestampMillisecond, Utf8,
} from 'apache-arrow';

/** Bumped whenever a field is added, removed or changes meaning; stored as `o2o.schema_version`. */
export const SCHEMA_VERSION = 1;

export const PARTITION_COLUMN = 'task';

/** Field declarations: name, Arrow type, nullability, and what it means. Order is the column order. */
export const STEP_FIELDS = [
  { name: 'episode_id', type: new Utf8(), nullable: false, doc: 'unique within the table; importers keep the source id' },
  { name: 'step', type: new Int32(), nullable: false, doc: '0-based position in the episode' },
  { name: 'task', type: new Utf8(), nullable: false, doc: 'e.g. gym_cards/NumberLine-v0; the Delta partition column' },
  { name: 'source', type: new Dictionary(new Utf8(), new Int32()), nullable: false, doc: 'demo | failure | online | eval | an import tag' },
  { name: 'policy_version', type: new Int32(), nullable: false, doc: 'the checkpoint that acted; -1 for imported data' },
  { name: 'obs_image', type: new Binary(), nullable: true, doc: 'PNG or JPEG bytes' },
  { name: 'obs_text', type: new Utf8(), nullable: false, doc: 'the full prompt the policy saw' },
  { name: 'output_text', type: new Utf8(), nullable: false, doc: 'what the policy generated (thoughts + action)' },
  { name: 'output_tokens', type: new List(new Field('element', new Int32(), false)), nullable: true, doc: 'generated token ids' },
  { name: 'output_logprobs', type: new List(new Field('element', new Float32(), false)), nullable: true, doc: "behaviour policy's per-token log-probs (temperature-scaled)" },
  { name: 'action_start', type: new Int32(), nullable: true, doc: 'index in output_tokens where the action part begins' },
  { name: 'tokenizer', type: new Utf8(), nullable: true, doc: 'identifies the vocabulary of output_tokens' },
  { name: 'action_text', type: new Utf8(), nullable: false, doc: 'the parsed legal action' },
  { name: 'action_valid', type: new Bool(), nullable: false, doc: 'false when the parser fell back to a random action' },
  { name: 'reward', type: new Float32(), nullable: false, doc: 'reward of this step' },
  { name: 'terminated', type: new Bool(), nullable: false, doc: 'the MDP ended' },
  { name: 'truncated', type: new Bool(), nullable: false, doc: 'cut by a time limit (not a true terminal)' },
  { name: 'value', type: new Float32(), nullable: true, doc: "the behaviour policy's value estimate" },
  { name: 'info', type: new Utf8(), nullable: true, doc: 'JSON: anything else from the source' },
  { name: 'created_at', type: new TimestampMillisecond('UTC'), nullable: false, doc: 'when the row was written (UTC)' },
] as const;

export type StepFieldName = (typeof STEP_FIELDS)[number]['name'];

/** The Arrow schema of the step table. */
export const STEP_SCHEMA = new Schema(
  STEP_FIELDS.map((f) => new Field(f.name, f.type, f.nullable)),
  new Map([['o2o.schema_version', String(SCHEMA_VERSION)]]),
);

/** Maps an Arrow type of the declaration to the TypeScript value a row holds. */
type TsOf<T> = T extends Utf8 ? string
  : T extends Dictionary ? string
  : T extends Int32 ? number
  : T extends Float32 ? number
  : T extends Bool ? boolean
  : T extends Binary ? Uint8Array
  : T extends TimestampMillisecond ? number
  : T extends List<Int32> ? Int32Array | number[]
  : T extends List<Float32> ? Float32Array | number[]
  : never;

type FieldRow<F> = F extends { name: infer N extends string; type: infer T; nullable: infer Nl }
  ? { [K in N]: Nl extends true ? TsOf<T> | null : TsOf<T> }
  : never;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** One step row as TypeScript sees it (derived from STEP_FIELDS). `created_at` is epoch milliseconds. */
export type StepRow = { [K in keyof UnionToIntersection<FieldRow<(typeof STEP_FIELDS)[number]>>]: UnionToIntersection<FieldRow<(typeof STEP_FIELDS)[number]>>[K] };

/**
 * The documented defaults of an imported row (README "Importing your logs"). Only fields that the source
 * leaves out get a default, and only these; every other step field is required, and a missing one is
 * reported by the validator as "nothing (the field is missing)".
 *
 * - nullable fields (obs_image, output_tokens, output_logprobs, action_start, tokenizer, value, info): null
 * - task: `--task` when given (a row's own task wins)
 * - source: `--source` (default "import")
 * - policy_version: -1 (imported data, per the step-table spec)
 * - action_valid: true (the log's action is taken as the one the agent meant)
 * - created_at: the time the import started (epoch ms, one value for the whole import)
 */
import { STEP_FIELDS } from '../store/schema.ts';

export interface Defaults {
  task?: string;
  source: string;
  createdAt: number;
}

const NULLABLE = STEP_FIELDS.filter((f) => f.nullable).map((f) => f.name as string);

export function completeRow(values: Record<string, unknown>, d: Defaults): Record<string, unknown> {
  const out: Record<string, unknown> = { ...values };
  for (const name of NULLABLE) if (out[name] === undefined) out[name] = null;
  if (out.task === undefined && d.task !== undefined) out.task = d.task;
  if (out.source === undefined) out.source = d.source;
  if (out.policy_version === undefined) out.policy_version = -1;
  if (out.action_valid === undefined) out.action_valid = true;
  if (out.created_at === undefined) out.created_at = d.createdAt;
  return out;
}

/** Step fields with no default: a source without them cannot be imported. `task` is required unless `--task`. */
export const REQUIRED_FIELDS = ['episode_id', 'step', 'task', 'obs_text', 'output_text', 'action_text', 'reward', 'terminated', 'truncated'] as const;

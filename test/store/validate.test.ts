import { describe, expect, test } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { Table, vectorFromArray, Float32 } from 'apache-arrow';
import {
  formatProblem, openTable, RejectedError, rowsToBatch, validateBatch, validateRow, type Problem, type StepRow,
} from '../../src/store/index.ts';
import { makeRows, tempRoot } from './fixtures.ts';

const good = () => makeRows({ episodes: 1, steps: 3 })[1];

function parquetFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { if (e.isDirectory()) walk(path.join(d, e.name)); else if (e.name.endsWith('.parquet')) out.push(e.name); } };
  walk(dir);
  return out;
}

describe('validateRow', () => {
  test('a good row has no problems', () => {
    expect(validateRow(good(), 'steps.jsonl', 1)).toEqual([]);
  });

  test('names file, row, field, expected and got', () => {
    const row = { ...good(), reward: Number.NaN } as StepRow;
    const p = validateRow(row, 'steps.jsonl', 118);
    expect(p).toHaveLength(1);
    expect(formatProblem(p[0])).toBe('steps.jsonl:118: reward: expected a finite number, got NaN');
    expect(formatProblem({ ...p[0], got: '"NaN"' })).toBe('steps.jsonl:118: reward: expected a finite number, got "NaN"');
  });

  test.each<[string, Partial<Record<string, unknown>>, string, RegExp]>([
    ['wrong type', { step: '3' }, 'step', /integer.*got "3"/],
    ['negative step', { step: -1 }, 'step', /integer >= 0/],
    ['non-integer', { policy_version: 1.5 }, 'policy_version', /integer/],
    ['null in non-null', { obs_text: null }, 'obs_text', /a string, got null/],
    ['missing field', { action_text: undefined }, 'action_text', /missing/],
    ['empty episode id', { episode_id: '' }, 'episode_id', /non-empty/],
    ['infinite float', { value: Infinity }, 'value', /finite/],
    ['bad image', { obs_image: 'abc' }, 'obs_image', /bytes/],
    ['NaN log-prob', { output_logprobs: [Number.NaN] , output_tokens: [1] }, 'output_logprobs', /finite/],
    ['list length mismatch', { output_tokens: [1, 2, 3], output_logprobs: [-1, -2], action_start: 1 }, 'output_logprobs', /one log-prob per output token \(3\)/],
    ['action_start past the tokens', { output_tokens: [1, 2], output_logprobs: [-1, -2], action_start: 3 }, 'action_start', /\[0, 2\]/],
    ['action_start without tokens', { output_tokens: null, output_logprobs: null, action_start: 0 }, 'action_start', /null when output_tokens is null/],
    ['info not JSON', { info: '{oops' }, 'info', /JSON/],
    ['timestamp not integer', { created_at: 'yesterday' }, 'created_at', /epoch milliseconds/],
  ])('%s', (_, patch, field, message) => {
    const row: Record<string, unknown> = { ...good(), ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete row[k];
    const p = validateRow(row, 'f.jsonl', 7);
    expect(p.map((x) => x.field)).toContain(field);
    expect(formatProblem(p.find((x) => x.field === field)!)).toMatch(message);
  });

  test('unknown field is a problem', () => {
    const p = validateRow({ ...good(), rewrd: 1 }, 'f.jsonl', 2);
    expect(p.map((x) => x.field)).toEqual(['rewrd']);
  });
});

describe('append rejects bad input and commits nothing', () => {
  async function expectRejected(run: () => Promise<unknown>): Promise<Problem[]> {
    try {
      await run();
    } catch (e) {
      expect(e).toBeInstanceOf(RejectedError);
      return (e as RejectedError).problems;
    }
    throw new Error('expected the append to be rejected');
  }

  test('bad rows in a batch: every bad row listed, no commit, no part file left', async () => {
    const root = tempRoot();
    const table = await openTable(root, 'bad', { create: true });
    await table.append([rowsToBatch(makeRows({ episodes: 2, steps: 3, prefix: 'ok' }))]);
    const rows = makeRows({ episodes: 2, steps: 3, prefix: 'new' });
    const batch = rowsToBatch(rows);
    // Poke NaN into two rewards (a batch can hold what a row object validator would have refused).
    const rewards = batch.getChild('reward')!.data[0].values as Float32Array;
    rewards[1] = Number.NaN;
    rewards[4] = Number.POSITIVE_INFINITY;
    const problems = await expectRejected(() => table.append([rowsToBatch(makeRows({ episodes: 1, steps: 2, prefix: 'first' })), batch], { label: 'import.parquet' }));
    expect(problems.map(formatProblem)).toEqual([
      'import.parquet:4: reward: expected a finite number, got NaN',
      'import.parquet:7: reward: expected a finite number, got Infinity',
    ]);
    expect((await table.history()).length).toBe(2);
    expect((await table.snapshot()).numRows).toBe(6);
    expect(parquetFiles(table.dir)).toHaveLength((await table.snapshot()).files.length);
  });

  test('wrong schema: a missing column and a wrong type are named', async () => {
    const root = tempRoot();
    const table = await openTable(root, 'schema', { create: true });
    const batch = rowsToBatch(makeRows({ episodes: 1, steps: 2 }));
    const t = new Table(batch).select(batch.schema.fields.map((f) => f.name).filter((n) => n !== 'tokenizer'))
      .assign(new Table({ value: vectorFromArray(['x', 'y']) }));
    const problems = validateBatch(t.batches[0], 'x.arrow', 1);
    expect(problems.map(formatProblem)).toEqual([
      'x.arrow:1: tokenizer: expected a column of type Utf8, got no such column',
      'x.arrow:1: value: expected a column of type Float32, got a column of type Dictionary<Int32, Utf8>',
    ]);
    await expectRejected(() => table.append(t.batches));
    expect((await table.history()).length).toBe(1);
    void Float32;
  });

  test('duplicate (episode_id, step) within the append and against the table; missing steps', async () => {
    const root = tempRoot();
    const table = await openTable(root, 'dups', { create: true });
    await table.append([rowsToBatch(makeRows({ episodes: 1, steps: 3, prefix: 'a' }))]);
    const dupInside = makeRows({ episodes: 1, steps: 2, prefix: 'b' });
    let problems = await expectRejected(() => table.append([rowsToBatch([...dupInside, dupInside[1]])], { label: 'b.jsonl' }));
    expect(problems.map(formatProblem)).toEqual(['b.jsonl:3: step: expected a step not already in episode "b-0000", got 1 (also at b.jsonl:2)']);
    problems = await expectRejected(() => table.append([rowsToBatch(makeRows({ episodes: 1, steps: 3, prefix: 'a' }))], { label: 'again.jsonl' }));
    expect(problems).toHaveLength(3);
    expect(formatProblem(problems[0])).toBe('again.jsonl:1: step: expected a step not already in episode "a-0000", got 0 (already in the table)');
    const gap = makeRows({ episodes: 1, steps: 4, prefix: 'c' }).filter((r) => r.step !== 2);
    problems = await expectRejected(() => table.append([rowsToBatch(gap)], { label: 'c.jsonl' }));
    expect(problems.map(formatProblem)).toEqual(['c.jsonl:3: step: expected episode "c-0000" to hold steps 0..3 without gaps, got missing step 2']);
    // Continuing an episode in a later commit is fine when it leaves no gap.
    const more = makeRows({ episodes: 1, steps: 5, prefix: 'a' }).slice(3);
    await table.append([rowsToBatch(more)]);
    expect((await table.snapshot()).numRows).toBe(5);
    expect((await table.history()).length).toBe(3);
  });
});

/** Step rows for store tests: every column type, with nulls, empty lists and binary images. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StepRow } from '../../src/store/index.ts';
import { Rng } from '../../src/util/rng.ts';

const roots: string[] = [];
process.once('exit', () => { for (const r of roots) fs.rmSync(r, { recursive: true, force: true }); });

/** A fresh store root in the temp folder, removed when the test process exits. */
export function tempRoot(): string {
  const r = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
  roots.push(r);
  return r;
}

/** `episodes` episodes of `steps` steps each; ids prefixed by `prefix`; varied nulls and edge values. */
export function makeRows(opts: { episodes: number; steps: number; prefix?: string; task?: string; seed?: number; source?: string; policyVersion?: number }): StepRow[] {
  const rng = new Rng(opts.seed ?? 1);
  const rows: StepRow[] = [];
  for (let e = 0; e < opts.episodes; e++) {
    const id = `${opts.prefix ?? 'ep'}-${String(e).padStart(4, '0')}`;
    for (let s = 0; s < opts.steps; s++) {
      const n = (e + s) % 4 === 0 ? 0 : 1 + rng.int(6);
      const hasTokens = (e + s) % 5 !== 1;
      const image = (e + s) % 3 === 2 ? null : Uint8Array.from({ length: rng.int(40) }, () => rng.int(256));
      rows.push({
        episode_id: id,
        step: s,
        task: opts.task ?? (e % 2 ? 'gym_cards/NumberLine-v0' : 'gym_cards/Blackjack-v0'),
        source: opts.source ?? (e % 3 === 0 ? 'demo' : 'failure'),
        policy_version: opts.policyVersion ?? (e % 4) - 1,
        obs_image: image,
        obs_text: `prompt ${e}/${s} ünïcødé ✓`,
        output_text: s % 2 ? '' : `{"thoughts": "t${s}", "action": "+"}`,
        output_tokens: hasTokens ? Int32Array.from({ length: n }, () => rng.int(50000) - 10) : null,
        output_logprobs: hasTokens ? Float32Array.from({ length: n }, () => -rng.float() * 5) : null,
        action_start: hasTokens ? (n ? rng.int(n + 1) : 0) : null,
        tokenizer: hasTokens ? 'o2o-bpe-v1' : null,
        action_text: ['+', '-', 'stand'][s % 3],
        action_valid: (e * 7 + s) % 5 !== 0,
        reward: s === opts.steps - 1 ? (e % 2 ? 1 : -1) : 0,
        terminated: s === opts.steps - 1 && e % 3 !== 0,
        truncated: s === opts.steps - 1 && e % 3 === 0,
        value: s % 2 ? null : rng.float() - 0.5,
        info: s % 3 === 0 ? null : JSON.stringify({ e, s }),
        created_at: 1_700_000_000_000 + e * 1000 + s,
      });
    }
  }
  return rows;
}

/** The canonical JSONL format as README "Importing your logs" defines it: image strings, times, defaults. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { ingest } from '../../src/ingest/ingest.ts';
import { encodePng } from '../../src/ingest/images.ts';
import { RejectedError, formatProblem } from '../../src/store/index.ts';
import { tableRows, tempDir } from './helpers.ts';
import jpeg from 'jpeg-js';

const PNG_BYTES = encodePng(new Uint8Array(4 * 4 * 3).map((_, i) => i), 4, 4, 3);
const JPEG_BYTES = new Uint8Array(jpeg.encode({ data: Buffer.alloc(8 * 8 * 4, 128), width: 8, height: 8 }, 90).data);

function line(step: number, extra: Record<string, unknown>): string {
  return JSON.stringify({
    episode_id: 'e', step, task: 'gym_cards/NumberLine-v0', obs_text: 'p', output_text: 'o', action_text: '+',
    reward: 0, terminated: false, truncated: false, ...extra,
  });
}

test('image strings: data URI, plain base64 (PNG and JPEG), relative path; bytes kept; times and defaults', async () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'logs', 'img'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'logs', 'img', 'a.png'), PNG_BYTES);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  fs.writeFileSync(path.join(dir, 'logs', 'steps.jsonl'), [
    line(0, { obs_image: `data:image/jpeg;base64,${b64(JPEG_BYTES)}`, created_at: '2026-01-02T03:04:05Z' }),
    line(1, { obs_image: b64(PNG_BYTES), created_at: 1767225600000 }),
    line(2, { obs_image: b64(JPEG_BYTES), source: 'demo', policy_version: 3, action_valid: false }),
    line(3, { obs_image: 'img/a.png', terminated: true, value: 0.5, info: '{"k": 1}' }),
    line(4, { obs_image: null }).replace('"episode_id":"e"', '"episode_id":"f"').replace('"step":4', '"step":0'),
  ].join('\n'));
  const root = path.join(dir, 'store');
  await ingest([path.join(dir, 'logs')], { dataset: 'd', root, quiet: true });
  const rows = (await tableRows(root, 'd', ['episode_id', 'step', 'obs_image', 'created_at', 'source', 'policy_version', 'action_valid', 'value', 'info']))
    .sort((a, b) => String(a.episode_id).localeCompare(String(b.episode_id)) || (a.step as number) - (b.step as number));
  expect(rows.map((r) => r.obs_image && Buffer.from(r.obs_image as Uint8Array).toString('base64'))).toEqual([
    b64(JPEG_BYTES), b64(PNG_BYTES), b64(JPEG_BYTES), b64(PNG_BYTES), null,
  ]);
  expect(Number(rows[0].created_at)).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
  expect(Number(rows[1].created_at)).toBe(1767225600000);
  expect(rows.map((r) => r.source)).toEqual(['import', 'import', 'demo', 'import', 'import']);
  expect(rows.map((r) => r.policy_version)).toEqual([-1, -1, 3, -1, -1]);
  expect(rows.map((r) => r.action_valid)).toEqual([true, true, false, true, true]);
  expect(rows[3].value).toBe(0.5);
  expect(rows[3].info).toBe('{"k": 1}');
});

test('image strings that cannot be had, an unknown field and a missing one are located problems', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'steps.jsonl');
  fs.writeFileSync(file, [
    line(0, { obs_image: 'missing.png' }),
    line(1, { obs_image: '/abs/a.png' }),
    line(2, { obs_image: 'data:image/gif;base64,R0lGOD' }),
    line(3, { rewrd: 1, terminated: true }),
    JSON.stringify({ episode_id: 'e', step: 4 }),
  ].join('\n'));
  let problems: string[] = [];
  try {
    await ingest([file], { dataset: 'd', root: path.join(dir, 'store'), quiet: true });
  } catch (e) {
    problems = (e as RejectedError).problems.map(formatProblem).map((p) => p.slice(p.indexOf('steps.jsonl')));
  }
  expect(problems).toEqual(expect.arrayContaining([
    expect.stringMatching(/^steps\.jsonl:1: obs_image: expected an image file at "missing\.png" relative to the log \(ENOENT\), got "missing\.png"$/),
    expect.stringMatching(/^steps\.jsonl:2: obs_image: expected a path relative to the log file's folder/),
    expect.stringMatching(/^steps\.jsonl:3: obs_image: expected a data URI "data:image\/png;base64,…" or "data:image\/jpeg;base64,…"/),
    expect.stringMatching(/^steps\.jsonl:4: rewrd: expected no such field/),
    'steps.jsonl:5: task: expected a string, got nothing (the field is missing)',
    'steps.jsonl:5: reward: expected a finite number, got nothing (the field is missing)',
  ]));
  expect(fs.existsSync(path.join(dir, 'store', 'd'))).toBe(false);
});

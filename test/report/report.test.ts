import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../src/pipeline/config.ts';
import { openRunFolder, writeState } from '../../src/pipeline/runfolder.ts';
import { readRun, renderReport } from '../../src/report/html.ts';
import { CHART_CSS, lineChart, standaloneSvg, ticks } from '../../src/report/svg.ts';
import { summarizeEpisodes } from '../../src/rollout/stats.ts';
import { Rng } from '../../src/util/rng.ts';
import { findChromium, inspectReport, withBrowser } from './chromium.ts';

/** A run folder as the runner and the stages leave it, with curves from a seeded random walk. */
function makeRun(): string {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'o2o-')), 'run');
  const config = parsePipeline('dataset: nl\nstages:\n  ingest: { generate: { task: numberline } }\n  offline: {}\n  online: { envs: { task: numberline } }\n  eval: { envs: { task: numberline } }\n', 'tiny.yaml');
  openRunFolder(dir, config);
  const rng = new Rng(1);
  for (const s of ['offline', 'online', 'eval']) mkdirSync(path.join(dir, s), { recursive: true });
  for (let step = 100; step <= 1000; step += 100) {
    appendFileSync(path.join(dir, 'offline', 'metrics.jsonl'), `${JSON.stringify({ step, loss: 2 / Math.sqrt(step) + 0.05 * rng.float(), critic: 1 / step, kept: 0.4 + 0.01 * rng.float(), steps_per_s: 30 + rng.float() })}\n`);
  }
  for (let u = 1; u <= 8; u++) {
    appendFileSync(path.join(dir, 'online', 'metrics.jsonl'), `${JSON.stringify({ step: u, env_steps: 128 * u, success: Math.min(1, 0.3 + 0.08 * u), mean_return: -1 + 0.2 * u, pg_loss: 0.1 * rng.float() - 0.05, value_loss: 0.5 / u, env_steps_per_s: 20 + rng.float() })}\n`);
  }
  appendFileSync(path.join(dir, 'online', 'metrics.jsonl'), '{"step": 9, "env_st'); // a torn last line (killed mid-write)
  const eps = Array.from({ length: 200 }, () => ({ return: rng.float() < 0.85 ? 1 : -2, length: 3, invalidSteps: rng.float() < 0.05 ? 1 : 0 }));
  writeFileSync(path.join(dir, 'eval', 'result.json'), JSON.stringify(summarizeEpisodes(eps)));
  const done = (seconds: number, summary: Record<string, number>) => ({ status: 'done' as const, attempts: 1, seconds, result: { summary } });
  writeState(dir, { stages: {
    ingest: done(2, { episodes: 500, rows: 1400 }), offline: done(30, { steps: 1000 }),
    online: { ...done(50, { envSteps: 1024 }), attempts: 2 }, eval: done(5, { episodes: 200, success: 0.85 }),
  } });
  return dir;
}

const composition = { version: 9, rows: [
  { source: 'noisy', policyVersion: -1, episodes: 500, steps: 1400, success: 0.31 },
  { source: 'online', policyVersion: 1, episodes: 150, steps: 512, success: 0.6 },
  { source: 'online', policyVersion: 2, episodes: 180, steps: 512, success: 0.8 },
] };

describe('report', () => {
  it('ticks are round numbers covering the range', () => {
    expect(ticks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks(128, 1024)).toEqual([200, 400, 600, 800, 1000]);
    expect(ticks(-0.05, 0.05)).toEqual([-0.04, -0.02, 0, 0.02, 0.04]);
  });

  it('a line breaks at a missing value and the markup escapes names', () => {
    const svg = lineChart({ title: 'a<b', xLabel: 'x', yLabel: 'y', series: [{ name: 'x&y', points: [[0, 1], [1, NaN], [2, 3], [3, 4]] }] });
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('data-series="x&amp;y"');
    expect(/ d="([^"]*)"/.exec(svg)![1].match(/M/g)).toHaveLength(2);
  });

  it('a standalone chart file carries its styles and a background inside its one svg element', () => {
    const chart = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[0, 0], [1, 1]] }] });
    const file = standaloneSvg(chart);
    expect(file.startsWith('<?xml')).toBe(true);
    expect(file.match(/<svg /g)).toHaveLength(1);
    expect(file.indexOf('<style>')).toBeGreaterThan(file.indexOf('<svg '));
    expect(file).toContain(CHART_CSS);
    expect(file.trimEnd().endsWith('</svg>')).toBe(true);
    expect(file.replace(/<style>.*<\/style><rect width="100%" height="100%" fill="#fff"\/>/s, '').replace(/^<\?xml[^>]*>\n/, '').trimEnd()).toBe(chart);
  });

  it('is one self-contained file: no script, no link, nothing fetched', () => {
    const html = renderReport({ ...readRun(makeRun()), composition });
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    expect(html.match(/https?:\/\/[^"]*/g)).toEqual(expect.arrayContaining(['http://www.w3.org/2000/svg']));
    expect(new Set(html.match(/https?:\/\/[^"]*/g))).toEqual(new Set(['http://www.w3.org/2000/svg']));
  });

  it('shows a failed stage with its error, and a dataset that cannot be read with the reason', () => {
    const run = readRun(makeRun());
    run.state.stages.online = { status: 'failed', attempts: 1, seconds: 3, error: 'out of <memory>' };
    const html = renderReport({ ...run, composition: { error: 'no table at x' } });
    expect(html).toContain('<td>online</td><td>failed</td><td>1</td><td>3</td><td>error: out of &lt;memory&gt;</td>');
    expect(html).toContain('could not be read: no table at x');
  });

  const browser = findChromium();
  it.skipIf(!browser)(`renders every chart with data in headless Chromium${browser ? '' : ' (SKIPPED: no chromium on PATH; install Debian\'s chromium package or set O2O_CHROMIUM)'}`, async () => {
    const dir = makeRun();
    const file = path.join(dir, 'report.html');
    writeFileSync(file, renderReport({ ...readRun(dir), composition }));
    const facts = await withBrowser(browser!, (ctx) => inspectReport(ctx, file, process.env.O2O_REPORT_SCREENSHOT));
    expect(facts.foreignRequests).toEqual([]);
    expect(facts.consoleErrors).toEqual([]);
    expect(facts.headings).toEqual(['Stages', 'Learning curves', 'Evaluation', 'Dataset', 'Throughput', 'Config']);
    const byTitle = Object.fromEntries(facts.charts.map((c) => [c.title, c]));
    for (const c of facts.charts) {
      expect(c.width, c.title).toBeGreaterThan(100);
      expect(c.height, c.title).toBeGreaterThan(100);
    }
    const success = byTitle['online: success rate'];
    expect(success.legend).toEqual(['success']);
    expect(success.series).toEqual([{ name: 'success', points: 8, length: expect.any(Number) }]);
    expect(success.series[0].length).toBeGreaterThan(100);
    expect(byTitle['online: losses'].legend).toEqual(['pg_loss', 'value_loss']);
    expect(byTitle['offline: losses'].legend).toEqual(['loss', 'critic']);
    expect(byTitle['offline: losses'].series.every((s) => s.points === 10 && s.length > 50)).toBe(true);
    expect(byTitle['online: return'].series[0].points).toBe(8);
    expect(byTitle['online: throughput'].legend).toEqual(['env_steps_per_s']);
    expect(byTitle['offline: kept'].series[0].points).toBe(10);
    const ev = byTitle['eval: success rate (95% CI)'];
    expect(ev.bars.map((b) => b.label)).toEqual(['success', 'invalid action']);
    expect(ev.bars[0].height).toBeGreaterThan(50);
    const ds = byTitle['dataset: steps by source and policy version'];
    expect(ds.bars.map((b) => b.label)).toEqual(['noisy v-1', 'online v1', 'online v2']);
    expect(ds.bars.every((b) => b.height > 10)).toBe(true);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/<td>\d+\.\d% \[\d+\.\d, \d+\.\d\]<\/td>/);
    expect(html).toContain('20.48 envSteps/s'); // 1024 env steps in 50 s
  });
});

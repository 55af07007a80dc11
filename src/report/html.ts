/**
 * The HTML report of a run folder: one self-contained file (inline CSS and SVG, no script, nothing fetched)
 * with the stages' status and wall time, learning curves from each stage's `metrics.jsonl`, the eval result
 * with 95% intervals, the dataset's composition by source and policy version, and throughput figures.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { STAGE_ORDER, type PipelineConfig, type StageName } from '../pipeline/config.ts';
import { readFrozenConfig, readState, type RunState } from '../pipeline/runfolder.ts';
import type { EvalSummary } from '../rollout/stats.ts';
import { barChart, CHART_CSS, esc, fmt, lineChart, PALETTE, type Series } from './svg.ts';

export type MetricRow = Record<string, number | string>;

/** Steps of one (source, policy version) group of the dataset snapshot. */
export interface CompositionRow { source: string; policyVersion: number; episodes: number; steps: number; success: number }

export interface ReportInput {
  name: string;
  config: PipelineConfig;
  state: RunState;
  metrics: Partial<Record<StageName, MetricRow[]>>;
  evalResult?: EvalSummary;
  /** The dataset at the end of the run, or why it could not be read. */
  composition: { version: number; rows: CompositionRow[] } | { error: string };
}

export const EVAL_RESULT = 'result.json';

/** Reads what a run folder holds (everything but the store). Torn trailing metric lines are skipped. */
export function readRun(runDir: string): Omit<ReportInput, 'composition'> {
  const config = readFrozenConfig(runDir);
  const metrics: Partial<Record<StageName, MetricRow[]>> = {};
  for (const s of STAGE_ORDER) {
    const file = path.join(runDir, s, 'metrics.jsonl');
    if (!existsSync(file)) continue;
    metrics[s] = readFileSync(file, 'utf8').split('\n').flatMap((l) => {
      try { return l.trim() ? [JSON.parse(l) as MetricRow] : []; } catch { return []; }
    });
  }
  const evalFile = path.join(runDir, 'eval', EVAL_RESULT);
  return {
    name: config.name ?? path.basename(runDir),
    config,
    state: readState(runDir),
    metrics,
    evalResult: existsSync(evalFile) ? JSON.parse(readFileSync(evalFile, 'utf8')) as EvalSummary : undefined,
  };
}

/** Metric keys drawn together on one chart; keys matching no group get a chart each. */
const GROUPS: { title: string; test: RegExp; yRange?: [number, number] }[] = [
  { title: 'success rate', test: /success/i, yRange: [0, 1] },
  { title: 'return', test: /return/i },
  { title: 'losses', test: /loss|^(actor|critic|pg|vf)$/i },
  { title: 'generation (tokens/s)', test: /^tokens_per_s$/ }, // its scale is ~100x env steps/s
  { title: 'throughput', test: /per_?s(ec)?$/i },
  { title: 'seconds per update', test: /_s$/ },
  { title: 'ratio statistics', test: /ratio|clip_frac|kl/i },
  { title: 'value statistics', test: /^(q|v|adv|adv_raw)_mean$/ },
  { title: 'counts', test: /^(policy_version|episodes)$/ },
];
/** The x axis of a stage's curves: env steps when the stage counts them, else update steps. */
const X_KEYS = ['env_steps', 'step'];

export function stageCharts(stage: string, rows: MetricRow[]): string[] {
  const xKey = X_KEYS.find((k) => rows.some((r) => typeof r[k] === 'number'));
  if (!xKey || !rows.length) return [];
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))]
    .filter((k) => !X_KEYS.includes(k) && rows.some((r) => typeof r[k] === 'number'));
  const series = (k: string): Series => ({
    name: k,
    points: rows.filter((r) => typeof r[xKey] === 'number').map((r) => [r[xKey] as number, typeof r[k] === 'number' ? r[k] as number : NaN]),
  });
  const charts: string[] = [];
  const used = new Set<string>();
  for (const g of GROUPS) {
    const ks = keys.filter((k) => !used.has(k) && g.test.test(k));
    if (!ks.length) continue;
    ks.forEach((k) => used.add(k));
    charts.push(lineChart({ title: `${stage}: ${g.title}`, xLabel: xKey === 'env_steps' ? 'env steps' : 'update step', yLabel: g.title, series: ks.map(series), yRange: g.yRange }));
  }
  for (const k of keys.filter((x) => !used.has(x))) {
    charts.push(lineChart({ title: `${stage}: ${k}`, xLabel: xKey === 'env_steps' ? 'env steps' : 'update step', yLabel: k, series: [series(k)] }));
  }
  return charts;
}

function table(head: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => (typeof v === 'number' ? fmt(v) : esc(v));
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>`
    + rows.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('') + '</tbody></table>';
}

function evalSection(r: EvalSummary | undefined): string {
  if (!r) return '<p class="missing">No eval result in this run (no eval stage, or it has not finished).</p>';
  const pct = (i: { value: number; lo: number; hi: number }) => `${(100 * i.value).toFixed(1)}% [${(100 * i.lo).toFixed(1)}, ${(100 * i.hi).toFixed(1)}]`;
  return table(['episodes', 'success (95% CI)', 'mean return (95% CI)', 'invalid actions (95% CI)', 'mean length'], [[
    r.episodes, pct(r.success), `${fmt(r.meanReturn.value)} [${fmt(r.meanReturn.lo)}, ${fmt(r.meanReturn.hi)}]`, pct(r.invalidAction), r.meanLength,
  ]]) + '<div class="charts">'
    + barChart({ title: 'eval: success rate (95% CI)', yLabel: 'success', yRange: [0, 1], bars: [{ label: 'success', ...r.success }, { label: 'invalid action', ...r.invalidAction }] })
    + barChart({ title: 'eval: mean return (95% CI)', yLabel: 'return', bars: [{ label: 'mean return', ...r.meanReturn }] })
    + '</div>';
}

function datasetSection(c: ReportInput['composition'], dataset: string): string {
  if ('error' in c) return `<p class="missing">The dataset ${esc(dataset)} could not be read: ${esc(c.error)}</p>`;
  const sources = [...new Set(c.rows.map((r) => r.source))];
  const color = (s: string) => PALETTE[sources.indexOf(s) % PALETTE.length];
  const label = (r: CompositionRow) => `${r.source} v${r.policyVersion}`;
  return `<p>Snapshot version ${c.version} of dataset <code>${esc(dataset)}</code>: ${c.rows.reduce((s, r) => s + r.steps, 0)} steps in ${c.rows.reduce((s, r) => s + r.episodes, 0)} episodes.</p>`
    + table(['source', 'policy version', 'episodes', 'steps', 'success'], c.rows.map((r) => [r.source, r.policyVersion, r.episodes, r.steps, r.success]))
    + '<div class="charts">'
    + barChart({ title: 'dataset: steps by source and policy version', yLabel: 'steps', bars: c.rows.map((r) => ({ label: label(r), value: r.steps, color: color(r.source) })) })
    + barChart({ title: 'dataset: episode success by source and policy version', yLabel: 'success', yRange: [0, 1], bars: c.rows.map((r) => ({ label: label(r), value: r.success, color: color(r.source) })) })
    + '</div>';
}

/** Stage wall time and the per-second rates of the counts each stage reports. */
function throughputSection(state: RunState): string {
  const rows: (string | number)[][] = [];
  for (const s of STAGE_ORDER) {
    const st = state.stages[s];
    if (!st) continue;
    const counts = Object.entries(st.result?.summary ?? {}).filter(([k, v]) => typeof v === 'number' && /^(rows|steps|episodes|envSteps|tokens)$/.test(k));
    const rates = counts.map(([k, v]) => `${fmt((v as number) / Math.max(st.seconds, 1e-9))} ${k}/s`).join(', ');
    rows.push([s, st.status, st.attempts, st.seconds, st.cpuSeconds ?? '-', rates || '-']);
  }
  return table(['stage', 'status', 'attempts', 'wall seconds', 'CPU seconds (all threads)', 'throughput'], rows);
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid #e3e3e3;background:#fff}
${CHART_CSS}
.missing{color:#a33}pre{background:#f7f7f7;padding:8px;overflow:auto}`;

export function renderReport(r: ReportInput): string {
  const stages = STAGE_ORDER.filter((s) => r.config.stages[s]);
  const status = table(['stage', 'status', 'attempts', 'wall seconds', 'summary'], stages.map((s) => {
    const st = r.state.stages[s];
    return [s, st?.status ?? 'pending', st?.attempts ?? 0, st?.seconds ?? 0,
      st?.status === 'failed' ? `error: ${st.error}` : Object.entries(st?.result?.summary ?? {}).map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : v}`).join(' ')];
  }));
  const curves = stages.flatMap((s) => {
    const charts = stageCharts(s, r.metrics[s] ?? []);
    return charts.length ? [`<h3>${esc(s)}</h3><div class="charts">${charts.join('')}</div>`] : [];
  });
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>o2o report: ${esc(r.name)}</title>`
    + `<style>${CSS}</style></head><body>`
    + `<h1>o2o run report: ${esc(r.name)}</h1>`
    + `<p>dataset <code>${esc(r.config.dataset)}</code>, seed ${r.config.seed}, model d${r.config.model.dModel}×${r.config.model.layers} layers, engine ${esc(r.config.engine.provider)} × ${r.config.engine.threads} threads</p>`
    + `<h2 id="stages">Stages</h2>${status}`
    + `<h2 id="curves">Learning curves</h2>${curves.join('') || '<p class="missing">No metrics yet.</p>'}`
    + `<h2 id="eval">Evaluation</h2>${evalSection(r.evalResult)}`
    + `<h2 id="dataset">Dataset</h2>${datasetSection(r.composition, r.config.dataset)}`
    + `<h2 id="throughput">Throughput</h2>${throughputSection(r.state)}`
    + `<h2 id="config">Config</h2><details><summary>config.json (frozen at the start of the run)</summary><pre>${esc(JSON.stringify(r.config, null, 2))}</pre></details>`
    + '</body></html>\n';
}

/**
 * Headless Chromium for the report tests, driven by playwright-core. The browser is the system's
 * (Debian's `chromium` package): $O2O_CHROMIUM, else the first of chromium, chromium-browser,
 * google-chrome on PATH. Returns undefined when none is installed (the tests then skip, saying why).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export function findChromium(): string | undefined {
  if (process.env.O2O_CHROMIUM) return process.env.O2O_CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('which', [name], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

/** Runs `fn` with a fresh browser profile, closed (and deleted) afterwards. */
export async function withBrowser<T>(executablePath: string, fn: (ctx: BrowserContext) => Promise<T>): Promise<T> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'o2o-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

export interface ReportFacts {
  /** Requests the page made other than its own file (must be none: the report is self-contained). */
  foreignRequests: string[];
  consoleErrors: string[];
  charts: { title: string; width: number; height: number; legend: string[]; series: { name: string; points: number; length: number }[]; bars: { label: string; height: number }[] }[];
  headings: string[];
}

/** Opens the report file and measures what Chromium actually laid out: chart boxes, path lengths, legends. */
export async function inspectReport(ctx: BrowserContext, file: string, screenshot?: string): Promise<ReportFacts> {
  const page = await ctx.newPage();
  const url = `file://${path.resolve(file)}`;
  const foreignRequests: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (r) => { if (r.url() !== url) foreignRequests.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  await page.goto(url, { waitUntil: 'load' });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  const facts = await page.evaluate(() => ({
    headings: [...document.querySelectorAll('h2')].map((h) => h.textContent ?? ''),
    charts: [...document.querySelectorAll('svg.chart')].map((svg) => {
      const box = svg.getBoundingClientRect();
      return {
        title: svg.querySelector('.title')?.textContent ?? '',
        width: box.width,
        height: box.height,
        legend: [...svg.querySelectorAll('.legend-item text')].map((t) => t.textContent ?? ''),
        series: [...svg.querySelectorAll('path.series')].map((p) => ({
          name: p.getAttribute('data-series') ?? '',
          points: (p.getAttribute('d') ?? '').split(/[ML]/).filter((s) => s.trim()).length,
          length: (p as SVGPathElement).getTotalLength(),
        })),
        bars: [...svg.querySelectorAll('rect.bar')].map((b) => ({ label: b.getAttribute('data-label') ?? '', height: b.getBoundingClientRect().height })),
      };
    }),
  }));
  await page.close();
  return { ...facts, foreignRequests, consoleErrors };
}

/**
 * The ingest stage: imports the configured files (src/ingest: validate every row, then one commit per
 * input) and generates episodes with a scripted policy (src/envs). Before each commit it looks in the
 * table's commit log for an earlier commit of the same content, so a resumed or repeated stage does not
 * append it twice. The stage ends by recording the table version that later stages read.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { generateToTable } from '../../envs/generate.ts';
import { displayPath, ingest, planInputs } from '../../ingest/ingest.ts';
import { openTable, type StepTable } from '../../store/index.ts';
import type { Stage, StageContext } from '../stage.ts';

/** The `o2o` facts of every commit in the table's log. */
async function commitFacts(table: StepTable): Promise<Record<string, unknown>[]> {
  return (await table.history()).map((h) => (h.o2o ?? {}) as Record<string, unknown>);
}

/**
 * Imports each configured input unless a commit of the table already holds exactly these inputs (a resumed
 * stage, or a second run into the same dataset).
 */
async function importFiles(ctx: StageContext, facts: Record<string, unknown>[]): Promise<{ rows: number; episodes: number }> {
  let rows = 0, episodes = 0;
  for (const f of ctx.config.stages.ingest!.files ?? []) {
    const format = f.format === 'auto' ? undefined : f.format;
    const inputs = JSON.stringify(planInputs([f.path], format).inputs.map((i) => displayPath(i.input)));
    if (facts.some((x) => JSON.stringify(x.inputs) === inputs)) continue;
    const r = await ingest([f.path], { dataset: ctx.config.dataset, root: ctx.storeRoot, format, source: f.source, task: f.task, quiet: ctx.quiet });
    rows += r.rows;
    episodes += r.episodes;
  }
  return { rows, episodes };
}

export const ingestStage: Stage = {
  name: 'ingest',
  isDone: (ctx) => existsSync(path.join(ctx.storeRoot, ctx.config.dataset, '_delta_log')),
  async run(ctx) {
    const table = await openTable(ctx.storeRoot, ctx.config.dataset, { create: true });
    const imported = await importFiles(ctx, await commitFacts(table));
    const g = ctx.config.stages.ingest!.generate;
    // generateToTable skips the episodes of its run already in the table: resuming continues after the last commit.
    const generated = g ? await generateToTable(table, { ...g, seed: ctx.config.seed, quiet: ctx.quiet }) : undefined;
    const snap = await table.snapshot();
    return {
      summary: {
        rows: imported.rows + (generated?.steps ?? 0), episodes: imported.episodes + (generated?.episodes ?? 0),
        ...(generated ? { generatedSuccess: generated.episodes ? generated.successes / generated.episodes : 0 } : {}),
        datasetRows: snap.numRows, storeVersion: snap.version,
      },
    };
  },
};

/**
 * The trajectory store: one Delta Lake table of Parquet parts per dataset.
 *
 *   const table = await openTable(storeRoot(), 'numberline', { create: true });
 *   await table.append([rowsToBatch(rows)], { info: { source: 'steps.jsonl' } });
 *   const snap = await table.snapshot();            // or snapshot(3): time travel
 *   const t = await snap.read({ columns: ['episode_id', 'reward'] });
 *   for await (const mb of snap.sampler({ batchSize: 256, seed: 0, columns: [...] })) train(mb);
 */
export * from './schema.ts';
export { describeValue, formatProblem, RejectedError, TableError, type Problem } from './problems.ts';
export { validateRow, validateBatch, episodeProblems, type StepKey } from './validate.ts';
export { rowsToBatch, gatherRows } from './batch.ts';
export { storeRoot, ROOT_ENV } from './root.ts';
export { openTable, type StepTable, type AppendOptions, type HistoryEntry } from './table.ts';
export { Snapshot, type Episode, type ReadOptions } from './snapshot.ts';
export { Sampler, type SamplerOptions } from './sampler.ts';
export type { StepFilter, SnapshotFile } from './read.ts';
export { summarize, formatSummary, type Summary } from './summary.ts';
export type { CommitInfo, FileStats } from './delta.ts';

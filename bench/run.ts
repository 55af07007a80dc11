/**
 * `npm run bench -- <name> [--quick] [bench options]`: runs bench/<name>.ts, whose `run(args)` prints
 * readable text and one JSON line per figure (see ../shared/BENCH.md).
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { BenchArgs } from './report.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'report.ts'].includes(f))
  .map((f) => f.slice(0, -3));

const [name, ...rest] = process.argv.slice(2);
if (!name || !existsSync(path.join(here, `${name}.ts`))) {
  console.error(`bench: expected one of ${available.join(', ') || '(none yet)'}, got ${JSON.stringify(name)}`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as { run(args: BenchArgs): Promise<void> };
const args: BenchArgs = { quick: rest.includes('--quick'), argv: rest.filter((a) => a !== '--quick') };
await mod.run(args);

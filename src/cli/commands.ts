import type { Command } from './command.ts';

/**
 * Every `o2o` command, in the order `--help` lists them. Each lives in its own file under src/cli/;
 * add one line here per command.
 */
export async function loadCommands(): Promise<Command[]> {
  const modules = await Promise.all([
    import('./start.ts'),
    import('./ingest.ts'),
    import('./inspect.ts'),
    import('./run.ts'),
    import('./report.ts'),
    import('./train-offline.ts'),
    import('./train-online.ts'),
    import('./eval.ts'),
    import('./generate.ts'),
    import('./env-serve.ts'),
    import('./providers.ts'),
  ]);
  return modules.map((m) => m.command);
}

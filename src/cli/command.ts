import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One `o2o` sub-command: its options are declared once and give both parsing and `--help`. */
export interface Command {
  /** e.g. "ingest" or "train offline" (words separated by one space). */
  name: string;
  summary: string;
  /** Usage line after `o2o <name>`, e.g. "<files…> --dataset NAME". */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Receives parsed options and positionals; returns the exit code. */
  run(args: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }): Promise<number>;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  default?: string | boolean;
  help: string;
}

export class UsageError extends Error {}

export function parseCommandArgs(cmd: Command, argv: string[]) {
  const options: ParseArgsConfig['options'] = {};
  for (const [k, spec] of Object.entries(cmd.options)) {
    // node:util parseArgs rejects keys present with the value undefined: copy only the declared ones.
    options[k] = Object.fromEntries(Object.entries({ type: spec.type, multiple: spec.multiple, short: spec.short, default: spec.default })
      .filter(([, v]) => v !== undefined)) as never;
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${commandHelp(cmd)}`);
  }
}

export function commandHelp(cmd: Command): string {
  const lines = [`Usage: o2o ${cmd.name} ${cmd.usage}`.trimEnd(), '', cmd.summary, ''];
  const entries = Object.entries(cmd.options);
  if (entries.length) {
    lines.push('Options:');
    for (const [k, spec] of entries) {
      const flag = `${spec.short ? `-${spec.short}, ` : ''}--${k}${spec.type === 'string' ? ' VALUE' : ''}`;
      const def = spec.default !== undefined ? ` (default: ${spec.default})` : '';
      lines.push(`  ${flag.padEnd(28)} ${spec.help}${def}`);
    }
  }
  return lines.join('\n');
}

/** Reads a numeric option, with an error that names the option and what arrived. */
export function intOption(values: Record<string, unknown>, name: string, fallback?: number): number {
  const raw = values[name];
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new UsageError(`--${name}: expected an integer, got ${JSON.stringify(raw)}`);
  return n;
}

import { loadCommands } from './commands.ts';
import { commandHelp, parseCommandArgs, UsageError, type Command } from './command.ts';

function overview(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'o2o: offline-to-online reinforcement learning for vision-language-model agents',
    '',
    'Usage: o2o <command> [options]     (o2o <command> --help for its options)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
  ].join('\n');
}

/** Runs the CLI on argv (without node and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const commands = await loadCommands();
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(overview(commands));
    return argv.length === 0 ? 1 : 0;
  }
  // Longest match first so that "train offline" wins over a hypothetical "train".
  const sorted = [...commands].sort((a, b) => b.name.split(' ').length - a.name.split(' ').length);
  const cmd = sorted.find((c) => {
    const words = c.name.split(' ');
    return words.every((w, i) => argv[i] === w);
  });
  if (!cmd) {
    console.error(`o2o: unknown command ${JSON.stringify(argv.join(' '))}\n\n${overview(commands)}`);
    return 2;
  }
  const rest = argv.slice(cmd.name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(cmd));
    return 0;
  }
  try {
    const parsed = parseCommandArgs(cmd, rest);
    return await cmd.run(parsed as never);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`o2o ${cmd.name}: ${e.message}`);
      return 2;
    }
    const err = e as Error;
    console.error(`o2o ${cmd.name}: ${err.message}`);
    if (process.env.O2O_DEBUG) console.error(err.stack);
    return 1;
  }
}

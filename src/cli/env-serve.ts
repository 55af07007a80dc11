import { UsageError, intOption, type Command } from './command.ts';
import { startEnvServer } from '../envs/remote/server.ts';
import { TASKS } from '../envs/registry.ts';

/** `o2o env serve`: gym_cards envs over the remote-env protocol (docs/remote-env.md). */
export const command: Command = {
  name: 'env serve',
  summary: 'Serve gym_cards environments over HTTP+JSON (the remote-env protocol, docs/remote-env.md)',
  usage: '--task TASK [--task TASK…] --port N',
  options: {
    task: { type: 'string', multiple: true, help: `task(s) to serve: ${TASKS.map((t) => t.name).join(', ')}` },
    port: { type: 'string', default: '8300', help: 'TCP port (0 picks a free one)' },
    host: { type: 'string', default: '127.0.0.1', help: 'address to bind; any non-loopback address requires --token' },
    token: { type: 'string', help: 'bearer token clients must send (Authorization: Bearer TOKEN); default $O2O_ENV_TOKEN' },
    quiet: { type: 'boolean', help: 'no request log' },
  },
  async run({ values }) {
    const tasks = (values.task as string[] | undefined) ?? [];
    if (!tasks.length) throw new UsageError(`--task is required: one or more of ${TASKS.map((t) => t.name).join(', ')}`);
    const token = (values.token as string | undefined) ?? process.env.O2O_ENV_TOKEN;
    const s = await startEnvServer({
      tasks, host: values.host as string, port: intOption(values, 'port'), token,
      log: values.quiet ? undefined : (l) => console.error(l),
    });
    console.log(`serving ${tasks.join(', ')} at ${s.url}${token ? ' (bearer token required)' : ''}; Ctrl-C stops`);
    await new Promise<void>((resolve) => {
      const stop = () => { void s.close().then(resolve); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};

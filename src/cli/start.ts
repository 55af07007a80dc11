import type { Command } from './command.ts';

/** `npm start`: the default pipeline. Until the pipeline lands it imports the shipped sample and summarises it. */
export const command: Command = {
  name: 'start',
  summary: 'Run the default pipeline end to end (what `npm start` runs)',
  usage: '',
  options: {},
  async run() {
    console.log('o2o: the default pipeline is not built yet.');
    return 0;
  },
};

/** The four gym_cards tasks by short name and by store name. */
import { blackjack } from './tasks/blackjack.ts';
import { ezPoints } from './tasks/ezpoints.ts';
import { numberLine } from './tasks/numberline.ts';
import { points24 } from './tasks/points24.ts';
import type { TaskDef } from './types.ts';

export const TASKS: readonly TaskDef[] = [numberLine, ezPoints, points24, blackjack];

/** A task from its short name ("numberline") or store name ("gym_cards/NumberLine-v0"). */
export function getTask(name: string): TaskDef {
  const t = TASKS.find((d) => d.name === name.toLowerCase() || d.id === name);
  if (!t) {
    throw new Error(`unknown task ${JSON.stringify(name)}: expected one of ${TASKS.map((d) => `${d.name} (${d.id})`).join(', ')}`);
  }
  return t;
}

/**
 * Action text of sources that store an action id (Minari's Discrete actions, LeRobot's `action`): for a
 * gym_cards task the id names the task's legal action string (e.g. NumberLine 1 → "+"); for any other
 * task, or an action that is not an id in range, the action's JSON text.
 */
import { TASKS } from '../envs/registry.ts';

export function actionText(task: string | undefined, action: unknown): string {
  const def = TASKS.find((d) => d.id === task);
  const id = Array.isArray(action) && action.length === 1 ? action[0] : action;
  if (def && Number.isInteger(id) && (id as number) >= 0 && (id as number) < def.actions.length) return def.actions[id as number];
  return JSON.stringify(action);
}

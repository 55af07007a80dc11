/**
 * NumberLine-v0 (../shared/spec/gym-cards.md B1): move `position` to `goal` on 0..5 with "-" / "+".
 * +1 and terminated on reaching the goal, -1 when the distance did not shrink (wrong way or a wall),
 * else 0; truncated after 10 steps.
 */
import { Canvas } from '../render/canvas.ts';
import { drawText } from '../render/font.ts';
import type { Rng } from '../../util/rng.ts';
import type { Game, TaskDef } from '../types.ts';
import { actionList, answerFormat } from './prompt.ts';

export const MAX_POSITION = 5;
export const MAX_STEPS = 2 * MAX_POSITION;
const ACTIONS = ['-', '+'] as const;

export class NumberLine implements Game {
  position = 0;
  goal = 0;
  steps = 0;

  reset(rng: Rng): void {
    this.position = rng.int(MAX_POSITION + 1);
    this.goal = rng.int(MAX_POSITION + 1);
    // the reference's modulus is M, not M+1: start = goal = 4 gives goal 0
    if (this.goal === this.position) this.goal = (this.goal + 1) % MAX_POSITION;
    this.steps = 0;
  }

  step(id: number) {
    const before = Math.abs(this.position - this.goal);
    if (id === 0 && this.position > 0) this.position--;
    else if (id === 1 && this.position < MAX_POSITION) this.position++;
    this.steps++;
    const after = Math.abs(this.position - this.goal);
    const terminated = after === 0;
    const reward = terminated ? 1 : after < before ? 0 : -1;
    return { reward, terminated, truncated: !terminated && this.steps >= MAX_STEPS };
  }

  render(): Canvas {
    const c = new Canvas(300, 300, [255, 255, 255]);
    // DejaVuSans-Bold 36 at (30, 60) and (30, 180): cap height ~26 px -> 5x7 cells of 4 px
    drawText(c, `Target: ${this.goal}`, 30, 60 + 7, 4, [0, 0, 0], true);
    drawText(c, `Current: ${this.position}`, 30, 180 + 7, 4, [0, 0, 0], true);
    return c;
  }

  promptFields(): Record<string, string> {
    return {};
  }

  readout(): Record<string, string> {
    return { 'current number': String(this.position), 'target number': String(this.goal) };
  }
}

export const numberLine: TaskDef = {
  name: 'numberline',
  id: 'gym_cards/NumberLine-v0',
  actions: ACTIONS,
  points: false,
  readoutKeys: ['current number', 'target number'],
  create: () => new NumberLine(),
  prompt: () =>
    'You are playing a game called number line. You will see a target number and a current number in the image. ' +
    'Your goal is to move the current number to the target number by choosing either to subtract one from ' +
    `or to add one to the current number. You can choose between ${actionList(ACTIONS)}. ` +
    answerFormat({ 'current number': '"x"', 'target number': '"x"' },
      'first read out the current and target number, then think carefully about which action to choose', ACTIONS),
};

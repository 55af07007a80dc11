/**
 * Points24-v0 (../shared/spec/gym-cards.md B3): four cards (ranks ~ U{1..13}, faces count 10, aces 1) to
 * combine into 24 with + - * / and parentheses, using every card; a formula of at most 21 entries.
 */
import { Canvas } from '../render/canvas.ts';
import { cardImage, SUITS, type Card } from '../render/cards.ts';
import { drawText } from '../render/font.ts';
import type { Rng } from '../../util/rng.ts';
import type { Game, TaskDef } from '../types.ts';
import { TABLE } from './ezpoints.ts';
import { PointsState } from './points.ts';
import { actionList, answerFormat, formulaLine } from './prompt.ts';

const ACTIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '+', '-', '*', '/', '(', ')', '='] as const;

export function deal24(rng: Rng): Card[] {
  return Array.from({ length: 4 }, () => ({ rank: rng.intIn(1, 13), suit: rng.choice(SUITS) }));
}

export class Points24 extends PointsState implements Game {
  constructor() {
    super({ target: 24, maxEntries: 20, actions: ACTIONS, deal: deal24 });
  }

  render(): Canvas {
    const c = new Canvas(300, 300, TABLE);
    [5, 78, 152, 226].forEach((x, i) => c.blit(cardImage(this.cards[i], 67, 93), x, 103));
    // DejaVuSans 16: cap height ~12 px -> 5x7 cells of 2 px
    drawText(c, 'Formula:', 10, 210 + 3, 2, [255, 255, 255]);
    drawText(c, this.formula.join(' '), 10, 240 + 3, 2, [255, 255, 255]);
    return c;
  }
}

export const points24: TaskDef = {
  name: 'points24',
  id: 'gym_cards/Points24-v0',
  actions: ACTIONS,
  points: true,
  readoutKeys: ['cards', 'current formula'],
  create: () => new Points24(),
  prompt: (f) =>
    `You are an expert 24 points card game player. You are observing these four cards in the image. You are observing the current formula: '${f.formula}'. ` +
    `You can choose between ${actionList(ACTIONS)}. The number or operator you choose will be appended to the current formula. ` +
    "Note that 'J', 'Q', and 'K' count as '10', and 'A' counts as '1'. Your goal is to output a formula that evaluates to 24, and each number can only be used once. " +
    answerFormat({ cards: '[x, y, z, w]', 'current formula': `"${f.formula}"` },
      `first check whether the current formula equals 24. If it equals 24, output '='. Otherwise consider which number or operator should be appended to the current formula to make it equal 24`, ACTIONS) +
    formulaLine(f.formula),
};

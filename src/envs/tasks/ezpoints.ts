/**
 * EZPoints-v0 (../shared/spec/gym-cards.md B2): two cards that make 12 by + or *; a formula of at most
 * 6 entries. Dealing: the first rank ~ U{2..13}; the second card's value is 12 / v1 with probability 0.5
 * when v1 is 2, 3, 4 or 6, else 12 - v1; the two cards swap places with probability 0.5.
 */
import { Canvas, hex } from '../render/canvas.ts';
import { cardImage, SUITS, type Card } from '../render/cards.ts';
import { drawText } from '../render/font.ts';
import type { Rng } from '../../util/rng.ts';
import type { Game, TaskDef } from '../types.ts';
import { PointsState, cardValue } from './points.ts';
import { actionList, answerFormat, formulaLine } from './prompt.ts';

const ACTIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '+', '*', '='] as const;
export const TABLE = hex('#35654d');

export function dealEz(rng: Rng): Card[] {
  const r1 = rng.intIn(2, 13);
  const first: Card = { rank: r1, suit: rng.choice(SUITS) };
  const v1 = Math.min(r1, 10);
  const v2 = [2, 3, 4, 6].includes(v1) && rng.bernoulli(0.5) ? Math.floor(12 / v1) : 12 - v1;
  const second: Card = { rank: v2, suit: rng.choice(SUITS) };
  return rng.bernoulli(0.5) ? [second, first] : [first, second];
}

export class EZPoints extends PointsState implements Game {
  constructor() {
    super({ target: 12, maxEntries: 5, actions: ACTIONS, deal: dealEz });
  }

  render(): Canvas {
    const c = new Canvas(300, 300, TABLE);
    c.blit(cardImage(this.cards[0], 135, 189), 5, 55);
    c.blit(cardImage(this.cards[1], 135, 189), 153, 55);
    // DejaVuSans 20 at (10, 258): cap height ~15 px -> 5x7 cells of 2 px
    drawText(c, `Formula: ${this.formula.join(' ')}`, 10, 258 + 4, 2, [255, 255, 255]);
    return c;
  }
}

export const ezPoints: TaskDef = {
  name: 'ezpoints',
  id: 'gym_cards/EZPoints-v0',
  actions: ACTIONS,
  points: true,
  readoutKeys: ['cards', 'current formula'],
  create: () => new EZPoints(),
  prompt: (f) =>
    `You are an expert card game player. You are observing two cards in the image. You are observing the current formula: '${f.formula}'. ` +
    `You can choose between ${actionList(ACTIONS)}. The number or operator you choose will be appended to the current formula. ` +
    "Note that 'J', 'Q', and 'K' count as '10'. Your goal is to output a formula that evaluates to 12, and each number can only be used once. " +
    answerFormat({ cards: '[x, y]', 'current formula': `"${f.formula}"` },
      `first check whether the current formula '${f.formula}' is complete. If it is complete, output '='. Otherwise consider which number or operator should be appended to make it equal 12`, ACTIONS) +
    formulaLine(f.formula),
};

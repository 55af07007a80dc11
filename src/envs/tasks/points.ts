/**
 * The formula rules shared by EZPoints and Points24 (../shared/spec/gym-cards.md B2, B3). Actions 0..9 are
 * the numbers "1".."10"; the rest are operators, the last one "=". A step, in this order:
 *   1. more than `maxEntries` entries already -> -1, truncated (the action is not applied);
 *   2. a number that is not available (no such card value, or all such cards used) -> a " " placeholder
 *      is appended, -1;
 *   3. an available number -> marked used, appended, 0;
 *   4. "=" -> evaluate; `win` if the value equals the target exactly and every card is used, else -1;
 *      terminated ("=" is never appended);
 *   5. an operator -> appended, 0.
 */
import type { Rng } from '../../util/rng.ts';
import { evaluateFormula } from '../formula.ts';
import { rankLabel, type Card } from '../render/cards.ts';

export const WIN_REWARD = 10;

export interface PointsRules {
  target: number;
  maxEntries: number;
  /** action strings: "1".."10", then the operators, "=" last */
  actions: readonly string[];
  deal(rng: Rng): Card[];
}

/** Value of a card: aces 1, faces 10. */
export function cardValue(c: Card): number {
  return Math.min(c.rank, 10);
}

export class PointsState {
  cards: Card[] = [];
  formula: string[] = [];
  /** per card, whether its number was used */
  used: boolean[] = [];

  constructor(readonly rules: PointsRules) {}

  reset(rng: Rng): void {
    this.cards = this.rules.deal(rng);
    this.formula = [];
    this.used = this.cards.map(() => false);
  }

  step(id: number) {
    const a = this.rules.actions[id];
    if (this.formula.length > this.rules.maxEntries) {
      return { reward: -1, terminated: false, truncated: true, info: { reason: 'formula too long' } };
    }
    if (id < 10) {
      const n = id + 1;
      const k = this.cards.findIndex((c, i) => !this.used[i] && cardValue(c) === n);
      if (k < 0) {
        this.formula.push(' ');
        return { reward: -1, terminated: false, truncated: false, info: { reason: `number ${n} not available` } };
      }
      this.used[k] = true;
      this.formula.push(a);
      return { reward: 0, terminated: false, truncated: false };
    }
    if (a === '=') {
      const r = evaluateFormula(this.formula.join(''));
      const allUsed = this.used.every(Boolean);
      const win = r.ok && r.value === this.rules.target && allUsed;
      const info = r.ok ? { value: r.value, allCardsUsed: allUsed } : { error: r.error, allCardsUsed: allUsed };
      return { reward: win ? WIN_REWARD : -1, terminated: true, truncated: false, info };
    }
    this.formula.push(a);
    return { reward: 0, terminated: false, truncated: false };
  }

  /** The formula as the prompt states it: the entries joined as they are evaluated. */
  formulaText(): string {
    return this.formula.join('');
  }

  promptFields(): Record<string, string> {
    return { formula: this.formulaText() };
  }

  readout(): Record<string, string> {
    return { cards: `[${this.cards.map((c) => rankLabel(c.rank)).join(', ')}]`, 'current formula': this.formulaText() };
  }
}

/**
 * Blackjack-v0 (../shared/spec/gym-cards.md B4; Sutton & Barto 5.1, natural=False, sab=False): infinite
 * deck, card values uniform over [1..9, 10, 10, 10, 10]; the dealer stands on 17 including soft 17; no
 * natural bonus, double or split. 0 = stand (stick), 1 = hit.
 */
import { Canvas } from '../render/canvas.ts';
import { cardImage, rankLabel, SUITS, type Card } from '../render/cards.ts';
import { drawText } from '../render/font.ts';
import type { Rng } from '../../util/rng.ts';
import type { Game, TaskDef } from '../types.ts';
import { TABLE } from './ezpoints.ts';
import { actionList, answerFormat } from './prompt.ts';

const ACTIONS = ['stand', 'hit'] as const;

/** A card: value ~ U[1..9,10,10,10,10]; a 10 is shown as J, Q or K (never "10"), suits uniform. */
export function drawCard(rng: Rng): Card {
  const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10][rng.int(13)];
  const rank = v === 10 ? rng.intIn(11, 13) : v;
  return { rank, suit: rng.choice(SUITS) };
}

/** Hand total: the sum of values, +10 for a usable ace (an ace with sum + 10 <= 21). */
export function handTotal(cards: readonly Card[]): number {
  const sum = cards.reduce((s, c) => s + Math.min(c.rank, 10), 0);
  return cards.some((c) => c.rank === 1) && sum + 10 <= 21 ? sum + 10 : sum;
}

export function usableAce(cards: readonly Card[]): boolean {
  const sum = cards.reduce((s, c) => s + Math.min(c.rank, 10), 0);
  return cards.some((c) => c.rank === 1) && sum + 10 <= 21;
}

export class Blackjack implements Game {
  dealer: Card[] = [];
  player: Card[] = [];

  reset(rng: Rng): void {
    this.dealer = [drawCard(rng), drawCard(rng)];
    this.player = [drawCard(rng), drawCard(rng)];
  }

  step(id: number, rng: Rng) {
    if (id === 1) {
      this.player.push(drawCard(rng));
      const bust = handTotal(this.player) > 21;
      return { reward: bust ? -1 : 0, terminated: bust, truncated: false };
    }
    while (handTotal(this.dealer) < 17) this.dealer.push(drawCard(rng));
    const score = (h: Card[]) => (handTotal(h) > 21 ? 0 : handTotal(h));
    const reward = Math.sign(score(this.player) - score(this.dealer));
    return { reward, terminated: true, truncated: false, info: { dealerTotal: handTotal(this.dealer), playerTotal: handTotal(this.player) } };
  }

  render(): Canvas {
    const c = new Canvas(300, 300, TABLE);
    const white = [255, 255, 255] as const;
    // DejaVuSans-Bold 16: cap height ~12 px -> 5x7 cells of 2 px
    drawText(c, 'Dealer', 5, 5 + 3, 2, white, true);
    c.blit(cardImage(this.dealer[0], 70, 98), 5, 25);
    c.blit(cardImage(null, 70, 98), 78, 25); // the hidden card is never shown
    drawText(c, 'Player', 5, 130 + 3, 2, white, true);
    // as the reference: a 5th card lands at x = 301, outside the image; cards 6.. wrap to the next row
    this.player.forEach((card, i) => c.blit(cardImage(card, 70, 98), 5 + 74 * (i % 5), 150 + 102 * Math.floor(i / 5)));
    return c;
  }

  promptFields(): Record<string, string> {
    return {};
  }

  readout(): Record<string, string> {
    return {
      'dealer card': rankLabel(this.dealer[0].rank),
      'player cards': `[${this.player.map((c) => rankLabel(c.rank)).join(', ')}]`,
    };
  }
}

export const blackjack: TaskDef = {
  name: 'blackjack',
  id: 'gym_cards/Blackjack-v0',
  actions: ACTIONS,
  points: false,
  readoutKeys: ['dealer card', 'player cards'],
  create: () => new Blackjack(),
  prompt: () =>
    "You are a blackjack player. You are observing the current game state: the dealer's face-up card and your cards. " +
    "'J', 'Q' and 'K' count as 10; 'A' counts as 1 or 11. " +
    `You can choose between ${actionList(ACTIONS)}. ` +
    answerFormat({ 'dealer card': '"x"', 'player cards': '[x, y]' },
      "first read out the dealer's card and your cards, describe your total points and the dealer's points, then think about which action to choose", ACTIONS),
};

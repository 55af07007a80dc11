/**
 * Playing cards drawn by the project (../shared/spec/gym-cards.md: "the rank must stay readable"): a white
 * card with a dark border, the rank and suit in the top-left corner, a large rank in the middle and a large
 * suit below it. Hearts and diamonds are red, clubs and spades black. A ten shows "10". Each (size, card)
 * is drawn once and cached.
 */
import { Canvas, hex, type Rgb } from './canvas.ts';
import { drawText, textWidth } from './font.ts';

export type Suit = 'C' | 'D' | 'H' | 'S';
export const SUITS: readonly Suit[] = ['C', 'D', 'H', 'S'];

/** rank 1 = ace … 10, 11 = J, 12 = Q, 13 = K */
export interface Card { rank: number; suit: Suit }

export function rankLabel(rank: number): string {
  if (rank === 1) return 'A';
  if (rank <= 10) return String(rank);
  return ['J', 'Q', 'K'][rank - 11];
}

/** The reference's card-art name, e.g. "HT" or "SA". */
export function cardName(c: Card): string {
  return `${c.suit}${c.rank === 10 ? 'T' : rankLabel(c.rank)}`;
}

const SUIT_BITS: Record<Suit, string[]> = {
  H: ['.##.##.', '#######', '#######', '#######', '.#####.', '..###..', '...#...'],
  D: ['...#...', '..###..', '.#####.', '#######', '.#####.', '..###..', '...#...'],
  S: ['...#...', '..###..', '.#####.', '#######', '#######', '.#.#.#.', '..###..'],
  C: ['..###..', '..###..', '##.#.##', '#######', '##.#.##', '...#...', '..###..'],
};

const RED = hex('#c0142c');
const BLACK = hex('#111111');
const BORDER = hex('#333333');
const BACK = hex('#1f4e9c');
const WHITE: Rgb = [255, 255, 255];

function drawSuit(c: Canvas, suit: Suit, x: number, y: number, scale: number, color: Rgb): void {
  SUIT_BITS[suit].forEach((row, r) => {
    for (let k = 0; k < row.length; k++) if (row[k] === '#') c.fillRect(x + k * scale, y + r * scale, scale, scale, color);
  });
}

function drawFace(w: number, h: number, card: Card): Canvas {
  const c = new Canvas(w, h, WHITE);
  frame(c);
  const color = card.suit === 'D' || card.suit === 'H' ? RED : BLACK;
  const label = rankLabel(card.rank);
  const small = Math.max(1, Math.floor(w / 30));
  drawText(c, label, 2 + small, 2 + small, small, color, true);
  drawSuit(c, card.suit, 2 + small, 4 + small * 9, small, color);
  // the large rank and suit sit below the corner block, centred in what is left of the card
  const top = 6 + small * 16;
  const room = h - top - 4;
  const big = Math.max(1, Math.min(Math.floor(room / (7 + 7 * 0.8 + 0.5)), Math.floor((w * 0.62) / (6 * label.length - 1))));
  const suitScale = Math.max(1, Math.floor(big * 0.8));
  const block = 7 * big + Math.max(2, big >> 1) + 7 * suitScale;
  const by = top + Math.floor((room - block) / 2);
  drawText(c, label, Math.floor((w - textWidth(label, big)) / 2), by, big, color, true);
  drawSuit(c, card.suit, Math.floor((w - 7 * suitScale) / 2), by + 7 * big + Math.max(2, big >> 1), suitScale, color);
  return c;
}

function drawBack(w: number, h: number): Canvas {
  const c = new Canvas(w, h, WHITE);
  frame(c);
  const m = Math.max(3, Math.floor(w / 14));
  c.fillRect(m, m, w - 2 * m, h - 2 * m, BACK);
  const step = Math.max(4, Math.floor(w / 10));
  for (let y = m + 2; y < h - m - 1; y += step) {
    for (let x = m + 2 + ((((y - m) / step) & 1) * step) / 2; x < w - m - 1; x += step) c.fillRect(x, y, 2, 2, WHITE);
  }
  return c;
}

function frame(c: Canvas): void {
  c.fillRect(0, 0, c.width, 2, BORDER);
  c.fillRect(0, c.height - 2, c.width, 2, BORDER);
  c.fillRect(0, 0, 2, c.height, BORDER);
  c.fillRect(c.width - 2, 0, 2, c.height, BORDER);
}

const cache = new Map<string, Canvas>();

/** The card's picture at w×h pixels (a face, or the back when `card` is null). Do not draw on the result. */
export function cardImage(card: Card | null, w: number, h: number): Canvas {
  const key = `${w}x${h}:${card ? cardName(card) : 'back'}`;
  let c = cache.get(key);
  if (!c) {
    c = card ? drawFace(w, h, card) : drawBack(w, h);
    cache.set(key, c);
  }
  return c;
}

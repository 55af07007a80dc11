/**
 * The Blackjack policy that maximises P(win) under the rules of ../shared/spec/gym-cards.md B4, by dynamic
 * programming over the exact rules (infinite deck, dealer stands on soft 17, ties are not wins).
 *
 * Player state: hard sum h (aces as 1), whether the hand holds an ace, the dealer's face-up value d.
 * W(h, ace, d) = max(Pwin_stick(total, d), Σ_v p(v) W(h + v, ace || v = 1, d)), W = 0 once h > 21.
 * Hitting strictly raises h, so the recursion ends.
 */
const P_VALUE = (v: number) => (v === 10 ? 4 / 13 : 1 / 13);
const VALUES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

function total(h: number, ace: boolean): number {
  return ace && h + 10 <= 21 ? h + 10 : h;
}

/** P(dealer final total = 17..21 or bust), index 0..4 for 17..21 and 5 for bust, given the face-up value d. */
export const dealerFinal: (d: number) => number[] = (() => {
  const memo = new Map<string, number[]>();
  // dealer's distribution from a hand (h, ace) that keeps drawing while total < 17
  const from = (h: number, ace: boolean): number[] => {
    const t = total(h, ace);
    const out = [0, 0, 0, 0, 0, 0];
    if (t > 21) { out[5] = 1; return out; }
    if (t >= 17) { out[t - 17] = 1; return out; }
    const key = `${h},${ace}`;
    const m = memo.get(key);
    if (m) return m;
    for (const v of VALUES) {
      const sub = from(h + v, ace || v === 1);
      for (let i = 0; i < 6; i++) out[i] += P_VALUE(v) * sub[i];
    }
    memo.set(key, out);
    return out;
  };
  const byCard = VALUES.map((d) => {
    const out = [0, 0, 0, 0, 0, 0];
    for (const v of VALUES) {
      const sub = from(d + v, d === 1 || v === 1); // the hidden card
      for (let i = 0; i < 6; i++) out[i] += P_VALUE(v) * sub[i];
    }
    return out;
  });
  return (d: number) => byCard[d - 1];
})();

/** P(win) when standing on `t` against face-up value d. */
export function pWinStand(t: number, d: number): number {
  const f = dealerFinal(d);
  let p = f[5];
  for (let s = 17; s <= 21; s++) if (s < t) p += f[s - 17];
  return t > 21 ? 0 : p;
}

const memo = new Map<string, { win: number; hit: boolean }>();

/** The optimal decision and its P(win) for hard sum h, ace held, dealer face-up value d. */
export function bestAction(h: number, ace: boolean, d: number): { win: number; hit: boolean } {
  if (h > 21) return { win: 0, hit: false };
  const key = `${h},${ace},${d}`;
  const m = memo.get(key);
  if (m) return m;
  const stand = pWinStand(total(h, ace), d);
  let hit = 0;
  for (const v of VALUES) hit += P_VALUE(v) * bestAction(h + v, ace || v === 1, d).win;
  const r = hit > stand + 1e-12 ? { win: hit, hit: true } : { win: stand, hit: false };
  memo.set(key, r);
  return r;
}

/** Expected P(win) of the optimal policy from the deal (two cards each), computed exactly. */
export function optimalWinProbability(): number {
  let p = 0;
  for (const d of VALUES) {
    for (const a of VALUES) {
      for (const b of VALUES) p += P_VALUE(d) * P_VALUE(a) * P_VALUE(b) * bestAction(a + b, a === 1 || b === 1, d).win;
    }
  }
  return p;
}

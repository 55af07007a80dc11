/**
 * Scripted behaviour policies that write full utterances (read-out fields, thoughts, action JSON) for
 * building offline datasets:
 *   expert: optimal (NumberLine: step towards the target; EZPoints/Points24: the next entry of a solution
 *           that extends the current formula, "=" once complete; Blackjack: the P(win)-maximising policy);
 *   noisy:  the expert, but with probability `pRead` one read-out is wrong (and it acts on the wrong
 *           reading), and with probability `pAct` the action is replaced by another legal action;
 *   random: a uniformly random legal action.
 * They read the true state from the in-process game (a perfect reader), never from the prompt.
 */
import type { Rng } from '../../util/rng.ts';
import type { GymCardsEnv } from '../env.ts';
import { rankLabel } from '../render/cards.ts';
import { handTotal, usableAce, type Blackjack } from '../tasks/blackjack.ts';
import type { NumberLine } from '../tasks/numberline.ts';
import type { EZPoints } from '../tasks/ezpoints.ts';
import { cardValue, type PointsState } from '../tasks/points.ts';
import type { Points24 } from '../tasks/points24.ts';
import { utterance } from '../tasks/prompt.ts';
import { bestAction } from './blackjack-dp.ts';
import { solutions, solve } from './solver.ts';

export type PolicyKind = 'expert' | 'noisy' | 'random';
export const POLICY_KINDS: readonly PolicyKind[] = ['expert', 'noisy', 'random'];

export interface Noise { pRead: number; pAct: number }

/** One decision: the read-out fields, the reasoning and the chosen action string. */
interface Decision { readout: Record<string, string>; thoughts: string; action: string }

export interface ScriptedPolicy {
  kind: PolicyKind;
  /** The utterance for the env's current state. */
  act(env: GymCardsEnv): string;
}

export function makePolicy(kind: PolicyKind, rng: Rng, noise: Noise = { pRead: 0, pAct: 0 }): ScriptedPolicy {
  return {
    kind,
    act(env) {
      const actions = env.def.actions;
      if (kind === 'random') {
        const a = rng.choice(actions);
        return utterance(env.game.readout(), `I choose an action at random: '${a}'.`, a);
      }
      const misread = kind === 'noisy' && rng.bernoulli(noise.pRead);
      const d = decide(env, misread ? rng : null);
      if (kind === 'noisy' && rng.bernoulli(noise.pAct)) {
        d.action = rng.choice(actions.filter((a) => a !== d.action));
      }
      return utterance(d.readout, d.thoughts, d.action);
    },
  };
}

/** The expert's decision; with `misread`, one read-out is replaced by a wrong value drawn from it. */
function decide(env: GymCardsEnv, misread: Rng | null): Decision {
  switch (env.def.name) {
    case 'numberline': return numberLine(env.game as NumberLine, misread);
    case 'blackjack': return blackjack(env.game as Blackjack, misread);
    case 'ezpoints': return points(env.game as EZPoints, ['+', '*'], 12, misread);
    case 'points24': return points(env.game as Points24, ['+', '-', '*', '/'], 24, misread);
  }
}

function otherThan(rng: Rng, lo: number, hi: number, x: number): number {
  const v = rng.intIn(lo, hi - 1);
  return v >= x ? v + 1 : v;
}

function numberLine(g: NumberLine, misread: Rng | null): Decision {
  let cur = g.position, tgt = g.goal;
  if (misread) {
    if (misread.bernoulli(0.5)) cur = otherThan(misread, 0, 5, cur);
    else tgt = otherThan(misread, 0, 5, tgt);
  }
  const action = cur < tgt ? '+' : '-';
  const rel = cur < tgt ? 'smaller than' : cur > tgt ? 'larger than' : 'equal to';
  const thoughts = `The current number is ${cur} and the target number is ${tgt}. ${cur} is ${rel} ${tgt}, ` +
    `so I ${action === '+' ? 'add one' : 'subtract one'} to move towards the target.`;
  return { readout: { 'current number': String(cur), 'target number': String(tgt) }, thoughts, action };
}

function blackjack(g: Blackjack, misread: Rng | null): Decision {
  const player = g.player.map((c) => c.rank);
  let dealer = g.dealer[0].rank;
  if (misread) {
    if (misread.bernoulli(0.5)) dealer = otherThan(misread, 1, 13, dealer);
    else { const i = misread.int(player.length); player[i] = otherThan(misread, 1, 13, player[i]); }
  }
  const cards = player.map((rank) => ({ rank, suit: 'S' as const }));
  const h = player.reduce((s, r) => s + Math.min(r, 10), 0);
  const ace = player.includes(1);
  const t = handTotal(cards);
  const d = Math.min(dealer, 10);
  const best = bestAction(h, ace, d);
  const action = best.hit ? 'hit' : 'stand';
  const thoughts = `My cards are ${player.map(rankLabel).join(', ')}, a ${usableAce(cards) ? 'soft' : 'hard'} total of ${t}. ` +
    `The dealer shows ${rankLabel(dealer)} (${d === 1 ? '1 or 11' : d}). ` +
    `Standing on ${t} wins with probability ${(100 * (best.hit ? 0 : best.win)).toFixed(1)}%` +
    (best.hit ? `, hitting wins more often (${(100 * best.win).toFixed(1)}%), so I hit.` : ', which is better than hitting, so I stand.');
  return {
    readout: { 'dealer card': rankLabel(dealer), 'player cards': `[${player.map(rankLabel).join(', ')}]` },
    thoughts,
    action,
  };
}

function points(g: PointsState, ops: readonly string[], target: number, misread: Rng | null): Decision {
  const ranks = g.cards.map((c) => c.rank);
  if (misread) {
    const i = misread.int(ranks.length);
    ranks[i] = otherThan(misread, 1, 13, ranks[i]);
  }
  const values = ranks.map((r) => cardValue({ rank: r, suit: 'S' }));
  const formula = g.formula.join('');
  const readout = { cards: `[${ranks.map(rankLabel).join(', ')}]`, 'current formula': formula };
  const plan = solve(values, ops, target, g.formula);
  if (plan && plan.length === g.formula.length) {
    return { readout, thoughts: `The current formula '${formula}' uses every card and equals ${target}, so I output '='.`, action: '=' };
  }
  if (plan) {
    const next = plan[g.formula.length];
    return {
      readout,
      thoughts: `The cards are worth ${values.join(', ')}. The formula ${plan.join('')} equals ${target}; '${formula}' is its beginning, so I append '${next}'.`,
      action: next,
    };
  }
  // no solution extends the formula: follow the formula closest to the target, then '='
  const near = solutions(values, ops, target).closest;
  const onTrack = near.length > g.formula.length && g.formula.every((t, i) => t === near[i]);
  const next = onTrack ? near[g.formula.length] : '=';
  const why = g.formula.length === 0
    ? `The cards are worth ${values.join(', ')}. No formula makes ${target}; ${near.join('')} comes closest, so I start with '${next}'.`
    : onTrack
      ? `No formula makes ${target}; I continue ${near.join('')}, the closest, with '${next}'.`
      : near.length === g.formula.length && g.formula.every((t, i) => t === near[i])
        ? `No formula makes ${target}; '${formula}' is the closest there is, so I output '='.`
        : `The current formula '${formula}' cannot be completed to ${target}, so I end it with '='.`;
  return {
    readout,
    thoughts: why,
    action: next,
  };
}

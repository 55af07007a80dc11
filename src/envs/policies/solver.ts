/**
 * Solutions of the points tasks: every way to combine the card values with binary operators (any order,
 * any bracketing), written as formula entries with the brackets the precedence needs. A candidate counts
 * only if `evaluateFormula` on its entries gives the target exactly, so the expert's formula is judged by
 * the same arithmetic as the env's "=".
 */
import { evaluateFormula } from '../formula.ts';

interface Item { value: number; tokens: string[]; /** precedence of the top operator; 3 for a number */ prec: number; top: string }

const PREC: Record<string, number> = { '+': 1, '-': 1, '*': 2, '/': 2 };

function combine(a: Item, b: Item, op: string): Item | null {
  let value: number;
  if (op === '+') value = a.value + b.value;
  else if (op === '-') value = a.value - b.value;
  else if (op === '*') value = a.value * b.value;
  else {
    if (b.value === 0) return null;
    value = a.value / b.value;
  }
  const p = PREC[op];
  const wrapA = a.prec < p;
  const wrapB = b.prec < p || (b.prec === p && (op === '-' || op === '/' || b.top !== op));
  const tokens = [...(wrapA ? ['(', ...a.tokens, ')'] : a.tokens), op, ...(wrapB ? ['(', ...b.tokens, ')'] : b.tokens)];
  return { value, tokens, prec: p, top: op };
}

/**
 * Every expression over all `values` (each used once) with operators `ops`, as entry lists, calling
 * `visit` until it returns true. Values are numbers 1..10 (entries "1".."10").
 */
export function forEachExpression(values: number[], ops: readonly string[], visit: (tokens: string[], value: number) => boolean): boolean {
  const rec = (items: Item[]): boolean => {
    if (items.length === 1) return visit(items[0].tokens, items[0].value);
    for (let i = 0; i < items.length; i++) {
      for (let j = 0; j < items.length; j++) {
        if (i === j) continue;
        const rest = items.filter((_, k) => k !== i && k !== j);
        for (const op of ops) {
          const c = combine(items[i], items[j], op);
          if (c && rec([...rest, c])) return true;
        }
      }
    }
    return false;
  };
  return rec(values.map((v) => ({ value: v, tokens: [String(v)], prec: 3, top: '' })));
}

interface Solutions { exact: string[][]; closest: string[] }
const cache = new Map<string, Solutions>();

/**
 * Every formula over `values` that evaluates to `target` exactly (by the env's arithmetic), and one whose
 * value is closest to it; cached per multiset of values.
 */
export function solutions(values: number[], ops: readonly string[], target: number): Solutions {
  const key = `${[...values].sort((a, b) => a - b).join(',')}|${ops.join('')}|${target}`;
  let s = cache.get(key);
  if (s) return s;
  const exact: string[][] = [];
  let closestTokens: string[] = [];
  let gap = Infinity;
  forEachExpression(values, ops, (tokens, treeValue) => {
    // the bracketed string may round differently from the tree, so the tree value only pre-selects
    if (Math.abs(treeValue - target) < 1e-6) {
      const r = evaluateFormula(tokens.join(''));
      if (r.ok && r.value === target) exact.push(tokens);
    }
    if (Math.abs(treeValue - target) < gap) {
      gap = Math.abs(treeValue - target);
      closestTokens = tokens;
    }
    return false;
  });
  exact.sort((a, b) => a.length - b.length); // shortest first: fewer brackets, shorter episodes
  s = { exact, closest: closestTokens };
  cache.set(key, s);
  return s;
}

/** A solution formula (entry list) that starts with `prefix`, or null. */
export function solve(values: number[], ops: readonly string[], target: number, prefix: readonly string[] = []): string[] | null {
  return solutions(values, ops, target).exact.find((t) => t.length >= prefix.length && prefix.every((p, i) => t[i] === p)) ?? null;
}

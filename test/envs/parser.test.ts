/** The action parser on adversarial outputs (../shared/spec/algorithms.md §1). */
import { describe, expect, it } from 'vitest';
import { actionStart, parseAction } from '../../src/envs/parser.ts';
import { Rng } from '../../src/util/rng.ts';
import { getTask } from '../../src/envs/registry.ts';

const nl = getTask('numberline');
const ez = getTask('ezpoints');
const p24 = getTask('points24');
const bj = getTask('blackjack');
const parse = (text: string, t = nl, seed = 1) => parseAction(text, t.actions, t.points, new Rng(seed));

describe('parseAction', () => {
  it('a well-formed answer', () => {
    expect(parse('{"current number": "2", "target number": "4", "thoughts": "go up", "action": "+"}')).toMatchObject({ text: '+', id: 1, valid: true });
    expect(parse('{"thoughts": "hit me", "action": "hit"}', bj)).toMatchObject({ text: 'hit', valid: true });
  });
  it('upper case is lowered', () => {
    expect(parse('{"THOUGHTS": "x", "ACTION": "STAND"}', bj)).toMatchObject({ text: 'stand', valid: true });
  });
  it('only the text from the LAST "action": counts', () => {
    expect(parse('"action": "-" no wait "action": "+"')).toMatchObject({ text: '+', valid: true });
    expect(parse('{"thoughts": "I said \\"action\\": stand before", "action": "hit"}', bj)).toMatchObject({ text: 'hit', valid: true });
  });
  it('two actions after the marker -> random legal action, invalid', () => {
    const r = parse('{"action": "+ or -"}');
    expect(r.valid).toBe(false);
    expect(r.candidates.sort()).toEqual(['+', '-']);
    expect(nl.actions).toContain(r.text);
  });
  it('no marker: only the last character is parsed', () => {
    expect(parse('I will press +')).toMatchObject({ text: '+', valid: true });
    expect(parse('+ is what I press')).toMatchObject({ valid: false, candidates: [] });
    expect(parse('5 * 2', ez)).toMatchObject({ text: '2', valid: true });
    expect(parse('hit', bj)).toMatchObject({ valid: false }); // "t" alone is no action
  });
  it('junk after the action still parses when it adds no legal string', () => {
    expect(parse('{"thoughts": "t", "action": "stand"} </s> ###', bj)).toMatchObject({ text: 'stand', valid: true });
    expect(parse('{"action": "+"}\n\nThanks! Let me know :)')).toMatchObject({ text: '+', valid: true });
    // junk that contains another legal string makes the answer ambiguous
    expect(parse('{"action": "+"}\n- end of answer -')).toMatchObject({ valid: false });
  });
  it('"10" first for the points tasks, so it does not also count as "1"', () => {
    expect(parse('{"action": "10"}', ez)).toMatchObject({ text: '10', id: 9, valid: true });
    expect(parse('{"action": "1"}', ez)).toMatchObject({ text: '1', id: 0, valid: true });
    expect(parse('{"action": "10"}', p24)).toMatchObject({ text: '10', valid: true });
    expect(parse('{"action": "10 + 1"}', p24)).toMatchObject({ valid: false });
    // NumberLine has no "10": the rule does not apply there
    expect(parse('{"action": "10"}')).toMatchObject({ valid: false });
  });
  it('no JSON at all, empty text', () => {
    expect(parse('')).toMatchObject({ valid: false, candidates: [] });
    expect(parse('lorem ipsum', bj)).toMatchObject({ valid: false });
  });
  it('the random fallback is seeded and covers every legal action', () => {
    const a = Array.from({ length: 50 }, (_, i) => parse('???', p24, i).id);
    const b = Array.from({ length: 50 }, (_, i) => parse('???', p24, i).id);
    expect(a).toEqual(b);
    const rng = new Rng(9);
    const seen = new Set(Array.from({ length: 2000 }, () => parseAction('???', p24.actions, true, rng).id));
    expect(seen.size).toBe(p24.actions.length);
  });
});

describe('actionStart', () => {
  it('is the offset of the last "action": marker, case-insensitive', () => {
    const t = '{"thoughts": "the \\"action\\": is", "Action": "+"}';
    expect(actionStart(t)).toBe(t.lastIndexOf('"Action":'));
    expect(t.slice(actionStart(t))).toBe('"Action": "+"}');
  });
  it('is the last character without a marker, 0 for an empty text', () => {
    expect(actionStart('press +')).toBe(6);
    expect(actionStart('')).toBe(0);
  });
  it('is an offset into the original text even when lower-casing changes lengths', () => {
    const t = 'İİİ {"action": "hit"}';
    expect(t.slice(actionStart(t))).toBe('"action": "hit"}');
  });
});

/** The formula arithmetic against Python's semantics (values worked out by hand from Python's grammar). */
import { describe, expect, it } from 'vitest';
import { evaluateFormula } from '../../src/envs/formula.ts';

const value = (s: string) => {
  const r = evaluateFormula(s);
  if (!r.ok) throw new Error(`${s}: ${r.error}`);
  return r.value;
};
const error = (s: string) => {
  const r = evaluateFormula(s);
  return r.ok ? `value ${r.value}` : r.error;
};

describe('evaluateFormula', () => {
  it('precedence and left associativity', () => {
    expect(value('2+3*4')).toBe(14);
    expect(value('10-4-3')).toBe(3);
    expect(value('8/4/2')).toBe(1);
    expect(value('(2+3)*4')).toBe(20);
    expect(value('((1))')).toBe(1);
  });
  it('adjacent digits concatenate: "1" "0" -> 10, "2" "10" -> 210', () => {
    expect(value(['1', '0'].join(''))).toBe(10);
    expect(value(['2', '10', '+', '2'].join(''))).toBe(212);
  });
  it('unary + and - anywhere a factor may start', () => {
    expect(value('+5')).toBe(5);
    expect(value('++5*2')).toBe(10);
    expect(value('10++2')).toBe(12);
    expect(value('5*-2')).toBe(-10);
    expect(value('-2**2')).toBe(-4); // Python: -(2**2)
  });
  it('"*","*" is power and "/","/" floor division, as Python reads the joined string', () => {
    expect(value('2**3')).toBe(8);
    expect(value('2**3**2')).toBe(512); // right associative
    expect(value('7//2')).toBe(3);
    expect(value('-7//2')).toBe(-4);
    expect(value('2**-1')).toBe(0.5);
  });
  it('blanks separate tokens and are otherwise ignored', () => {
    expect(value(' 5 + 7 ')).toBe(12);
    expect(error('1 0')).toMatch(/syntax error/); // two numbers side by side
    expect(error('2* *3')).toMatch(/syntax error/); // "* *" is not "**"
  });
  it('true division in double precision', () => {
    expect(value('8/(3-8/3)')).toBe(8 / (3 - 8 / 3));
    expect(value('8/(3-8/3)')).not.toBe(24);
    expect(value('6/(1-3/4)')).toBe(24);
  });
  it('division by zero is an error, also for // and 0**-1', () => {
    expect(error('5/(4-4)')).toBe('division by zero');
    expect(error('5//(2-2)')).toBe('division by zero');
    expect(error('(1-1)**-1')).toBe('division by zero');
  });
  it('syntax errors: empty, dangling operator, unbalanced brackets, stray tokens', () => {
    for (const s of ['', '5+', '*5', '(5+7', '5+7)', '()', '5(7)', '(5)7', '5 +', '=']) expect(error(s)).toMatch(/syntax error/);
  });
});

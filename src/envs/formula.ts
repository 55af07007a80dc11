/**
 * The arithmetic of the points tasks: the formula entries are concatenated and evaluated with the semantics
 * of a Python expression, as the reference does with `eval`, by a parser of our own (never `eval`).
 *
 * Python rules copied: digits that touch form one number ("1","0" -> 10); blanks (the " " placeholders)
 * separate tokens and are otherwise ignored, so "1 0" is two numbers side by side = a syntax error; unary
 * + and - (e.g. "+5", "5*-2"); "*","*" is Python's power `**` and "/","/" its floor division `//`; "/" is
 * true division in double precision. A syntax error or a division by zero is an `error` result.
 *
 * Grammar (Python's, restricted to these tokens):
 *   expr := term (("+" | "-") term)*        term := factor (("*" | "/" | "//") factor)*
 *   factor := ("+" | "-") factor | power    power := atom ["**" factor]      atom := NUMBER | "(" expr ")"
 */
export type FormulaResult = { ok: true; value: number } | { ok: false; error: string };

type Token = { kind: 'num'; value: number } | { kind: 'op'; op: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (ch === ' ' || ch === '\t') { i++; continue; }
    if (ch >= '0' && ch <= '9') {
      let j = i;
      while (j < src.length && src[j] >= '0' && src[j] <= '9') j++;
      const digits = src.slice(i, j);
      // Python 3 rejects decimal literals with leading zeros ("05"), except all zeros
      if (digits.length > 1 && digits[0] === '0' && /[1-9]/.test(digits)) throw new SyntaxError(`leading zero in ${digits}`);
      out.push({ kind: 'num', value: Number(digits) });
      i = j;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '**' || two === '//') { out.push({ kind: 'op', op: two }); i += 2; continue; }
    if ('+-*/()'.includes(ch)) { out.push({ kind: 'op', op: ch }); i++; continue; }
    throw new SyntaxError(`unexpected character ${JSON.stringify(ch)}`);
  }
  return out;
}

class ZeroDivision extends Error {}

/** Evaluates `src` (the concatenated formula entries). */
export function evaluateFormula(src: string): FormulaResult {
  let toks: Token[];
  try {
    toks = tokenize(src);
  } catch (e) {
    return { ok: false, error: `syntax error: ${(e as Error).message}` };
  }
  let p = 0;
  const isOp = (op: string) => p < toks.length && toks[p].kind === 'op' && (toks[p] as { op: string }).op === op;
  const fail = (what: string): never => {
    throw new SyntaxError(p < toks.length ? `${what} at token ${p + 1}` : `${what} at the end`);
  };
  const expr = (): number => {
    let v = term();
    for (;;) {
      if (isOp('+')) { p++; v += term(); } else if (isOp('-')) { p++; v -= term(); } else return v;
    }
  };
  const term = (): number => {
    let v = factor();
    for (;;) {
      if (isOp('*')) { p++; v *= factor(); } else if (isOp('/')) {
        p++;
        const d = factor();
        if (d === 0) throw new ZeroDivision();
        v /= d;
      } else if (isOp('//')) {
        p++;
        const d = factor();
        if (d === 0) throw new ZeroDivision();
        v = Math.floor(v / d);
      } else return v;
    }
  };
  const factor = (): number => {
    if (isOp('+')) { p++; return factor(); }
    if (isOp('-')) { p++; return -factor(); }
    return power();
  };
  const power = (): number => {
    const base = atom();
    if (isOp('**')) {
      p++;
      const e = factor();
      if (base === 0 && e < 0) throw new ZeroDivision();
      return base ** e;
    }
    return base;
  };
  const atom = (): number => {
    const t = toks[p];
    if (t === undefined) return fail('expected a number or "("');
    if (t.kind === 'num') { p++; return t.value; }
    if (t.op === '(') {
      p++;
      const v = expr();
      if (!isOp(')')) fail('expected ")"');
      p++;
      return v;
    }
    return fail(`unexpected ${JSON.stringify(t.op)}`);
  };
  try {
    const v = expr();
    if (p !== toks.length) fail('unexpected token');
    return { ok: true, value: v };
  } catch (e) {
    if (e instanceof ZeroDivision) return { ok: false, error: 'division by zero' };
    if (e instanceof SyntaxError) return { ok: false, error: `syntax error: ${e.message}` };
    throw e;
  }
}

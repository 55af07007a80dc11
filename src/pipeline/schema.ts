/**
 * A small declarative schema for configs: one declaration gives validation (every problem, with its path),
 * defaults, the TypeScript type (`Infer<S>`) and a printed reference (`describe`).
 *
 * Rules: an unknown key is an error naming the key, its path and the allowed keys; a wrong type says what
 * was expected and what arrived; a missing field takes its default, or is an error when it has none.
 * A `keyed` field holds settings whose schema is chosen by a sibling field (e.g. `settings` by `algo`),
 * looked up in a table of named schemas, so no shared code branches on the name.
 */

export type Spec =
  | NumberSpec | StringSpec | BooleanSpec | EnumSpec | ListSpec | ObjectSpec | SettingsSpec | KeyedSpec;

interface Base { help: string; optional?: boolean }
export interface NumberSpec extends Base { kind: 'number'; default?: number; integer?: boolean; min?: number; max?: number }
export interface StringSpec extends Base { kind: 'string'; default?: string }
export interface BooleanSpec extends Base { kind: 'boolean'; default?: boolean }
export interface EnumSpec extends Base { kind: 'enum'; values: readonly string[]; default?: string }
export interface ListSpec extends Base { kind: 'list'; of: Spec; min?: number }
export interface ObjectSpec extends Base { kind: 'object'; fields: Record<string, Spec>; atLeastOne?: readonly string[] }
/**
 * Settings declared by another module: its parser turns raw settings into checked ones and throws on a bad
 * one; `parse(undefined)` gives the defaults (listed in the reference).
 */
export type SettingsDecl = (raw: unknown) => Record<string, unknown>;
export interface SettingsSpec extends Base { kind: 'settings'; decl: SettingsDecl }
/** Settings chosen by the sibling field `by`, from a table of named declarations. */
export interface KeyedSpec extends Base { kind: 'keyed'; by: string; choices: Record<string, SettingsDecl> }

type Opt<S, T> = S extends { optional: true } ? T | undefined : T;
export type Infer<S extends Spec> =
  S extends NumberSpec ? Opt<S, number>
  : S extends StringSpec ? Opt<S, string>
  : S extends BooleanSpec ? Opt<S, boolean>
  : S extends EnumSpec ? Opt<S, S['values'][number]>
  : S extends ListSpec ? Opt<S, Infer<S['of']>[]>
  : S extends ObjectSpec ? Opt<S, { -readonly [K in keyof S['fields']]: Infer<S['fields'][K]> }>
  : S extends SettingsSpec ? ReturnType<S['decl']>
  : S extends KeyedSpec ? Opt<S, Record<string, unknown>>
  : never;

// Builders: `num({ help, default: 0 })` keeps literal types for `Infer`.
export const num = <const O extends Omit<NumberSpec, 'kind'>>(o: O) => ({ kind: 'number', ...o }) as const;
export const int = <const O extends Omit<NumberSpec, 'kind' | 'integer'>>(o: O) => ({ kind: 'number', integer: true, ...o }) as const;
export const str = <const O extends Omit<StringSpec, 'kind'>>(o: O) => ({ kind: 'string', ...o }) as const;
export const bool = <const O extends Omit<BooleanSpec, 'kind'>>(o: O) => ({ kind: 'boolean', ...o }) as const;
export const oneOf = <const O extends Omit<EnumSpec, 'kind'>>(o: O) => ({ kind: 'enum', ...o }) as const;
export const list = <const O extends Omit<ListSpec, 'kind'>>(o: O) => ({ kind: 'list', ...o }) as const;
export const obj = <const O extends Omit<ObjectSpec, 'kind'>>(o: O) => ({ kind: 'object', ...o }) as const;
export const settings = <const O extends Omit<SettingsSpec, 'kind'>>(o: O) => ({ kind: 'settings', ...o }) as const;
export const keyed = <const O extends Omit<KeyedSpec, 'kind'>>(o: O) => ({ kind: 'keyed', ...o }) as const;

/** One problem in a config: `stages.offline.settings: unknown key "gama"; allowed keys: gamma, …`. */
export interface ConfigProblem { path: string; message: string }

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[], readonly file: string, hint = '') {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the config:\n` +
      problems.map((p) => `  ${p.path || '(top)'}: ${p.message}`).join('\n') + (hint ? `\n${hint}` : ''));
    this.name = 'ConfigError';
  }
}

function got(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 40)})`;
  if (typeof v === 'object') return 'an object';
  return `${JSON.stringify(v)} (${typeof v})`;
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/** Validates `raw` against `spec`; returns the value with defaults filled, and every problem found. */
export function check(spec: Spec, raw: unknown, path = ''): { value: unknown; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const value = walk(spec, raw, path, problems);
  return { value, problems };
}

/** Like `check`, but throws a ConfigError listing every problem. */
export function parse<S extends Spec>(spec: S, raw: unknown, file: string, hint?: string): Infer<S> {
  const { value, problems } = check(spec, raw);
  if (problems.length) throw new ConfigError(problems, file, hint);
  return value as Infer<S>;
}

function walk(spec: Spec, raw: unknown, path: string, problems: ConfigProblem[], parent?: Record<string, unknown>): unknown {
  const bad = (message: string) => { problems.push({ path, message }); return undefined; };
  if (raw === undefined || raw === null) {
    if ('default' in spec && spec.default !== undefined) return spec.default;
    if (spec.kind === 'object' && !spec.optional) return walk(spec, {}, path, problems);
    if (spec.kind === 'keyed' || spec.kind === 'settings') return walk(spec, {}, path, problems, parent);
    if (spec.optional) return undefined;
    return bad(`required (${spec.help}); got nothing`);
  }
  switch (spec.kind) {
    case 'number': {
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return bad(`expected a finite number, got ${got(raw)}`);
      if (spec.integer && !Number.isInteger(raw)) return bad(`expected an integer, got ${raw}`);
      if (spec.min !== undefined && raw < spec.min) return bad(`expected a number ≥ ${spec.min}, got ${raw}`);
      if (spec.max !== undefined && raw > spec.max) return bad(`expected a number ≤ ${spec.max}, got ${raw}`);
      return raw;
    }
    case 'string':
      return typeof raw === 'string' && raw !== '' ? raw : bad(`expected a non-empty string, got ${got(raw)}`);
    case 'boolean':
      return typeof raw === 'boolean' ? raw : bad(`expected true or false, got ${got(raw)}`);
    case 'enum':
      return typeof raw === 'string' && spec.values.includes(raw) ? raw
        : bad(`expected one of ${spec.values.join(', ')}, got ${got(raw)}`);
    case 'list': {
      if (!Array.isArray(raw)) return bad(`expected a list, got ${got(raw)}`);
      if (spec.min !== undefined && raw.length < spec.min) return bad(`expected at least ${spec.min} entries, got ${raw.length}`);
      return raw.map((x, i) => walk(spec.of, x, `${path}[${i}]`, problems));
    }
    case 'object': {
      if (typeof raw !== 'object' || Array.isArray(raw)) return bad(`expected an object (${spec.help}), got ${got(raw)}`);
      const input = raw as Record<string, unknown>;
      const allowed = Object.keys(spec.fields);
      for (const k of Object.keys(input)) {
        if (!(k in spec.fields)) problems.push({ path: join(path, k), message: `unknown key "${k}" in ${path || 'the top level'}; allowed keys: ${allowed.join(', ')}` });
      }
      if (spec.atLeastOne && !spec.atLeastOne.some((k) => input[k] !== undefined)) {
        bad(`expected at least one of ${spec.atLeastOne.join(', ')}; got none`);
      }
      const out: Record<string, unknown> = {};
      // Keyed fields last: they read the parsed (defaulted) value of their sibling.
      const fields = Object.entries(spec.fields).sort(([, a], [, b]) => Number(a.kind === 'keyed') - Number(b.kind === 'keyed'));
      for (const [k, sub] of fields) {
        const v = walk(sub, input[k], join(path, k), problems, out);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    case 'settings':
    case 'keyed': {
      const name = spec.kind === 'keyed' ? parent?.[spec.by] : undefined;
      const decl = spec.kind === 'settings' ? spec.decl : typeof name === 'string' ? spec.choices[name] : undefined;
      if (!decl) return undefined; // the `by` field reports its own problem
      try {
        return decl(raw);
      } catch (e) {
        return bad((e as Error).message);
      }
    }
  }
}

/**
 * A Markdown reference of the schema: one row per field with its type, default and help, the settings of
 * every keyed choice listed under the field.
 */
export function describe(spec: Spec, path = ''): string {
  const rows: string[] = ['| key | type | default | meaning |', '|---|---|---|---|'];
  const visit = (s: Spec, p: string) => {
    if (p) rows.push(`| \`${p}\` | ${typeName(s)} | ${defaultText(s)} | ${s.help} |`);
    if (s.kind === 'object') for (const [k, sub] of Object.entries(s.fields)) visit(sub, join(p, k));
    if (s.kind === 'list') visit(s.of, `${p}[]`);
    const list = (d: SettingsDecl) => Object.entries(d(undefined)).map(([k, v]) => `\`${k}: ${JSON.stringify(v)}\``).join(', ');
    if (s.kind === 'keyed') {
      for (const [name, c] of Object.entries(s.choices)) {
        rows.push(`| \`${p}\` (${s.by} = ${name}) | settings | ${list(c)} | the settings of ${name}, with their defaults |`);
      }
    }
    if (s.kind === 'settings') rows.push(`| \`${p}.*\` | settings | ${list(s.decl)} | the settings, with their defaults |`);
  };
  visit(spec, path);
  return rows.join('\n');
}

function typeName(s: Spec): string {
  const opt = s.optional ? ', optional' : '';
  switch (s.kind) {
    case 'number': return `${s.integer ? 'integer' : 'number'}${s.min !== undefined ? ` ≥ ${s.min}` : ''}${s.max !== undefined ? ` ≤ ${s.max}` : ''}${opt}`;
    case 'enum': return `${s.values.map((v) => `\`${v}\``).join(' \\| ')}${opt}`;
    case 'object': return `object${opt}${s.atLeastOne ? ` (at least one of ${s.atLeastOne.join(', ')})` : ''}`;
    case 'keyed': return `settings of the chosen \`${s.by}\``;
    case 'settings': return 'settings';
    default: return `${s.kind}${opt}`;
  }
}

function defaultText(s: Spec): string {
  if ('default' in s && s.default !== undefined) return `\`${JSON.stringify(s.default)}\``;
  if (s.kind === 'object' || s.kind === 'keyed' || s.kind === 'settings') return '';
  return s.optional ? '(none)' : '**required**';
}

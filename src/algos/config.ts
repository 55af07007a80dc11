/**
 * Method configs: plain JSON objects with declared defaults. `parseConfig` is the single boundary:
 * an unknown key or a value of the wrong type is an error naming the key, what was expected and what
 * arrived; what it returns round-trips through JSON unchanged.
 */
export type ConfigValue = number | string | boolean;

export function parseConfig<C extends Record<string, ConfigValue>>(
  defaults: C, raw: unknown, where: string,
): C {
  if (raw === undefined) return { ...defaults };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`${where}: expected an object of settings, got ${JSON.stringify(raw)}`);
  }
  const out: Record<string, ConfigValue> = { ...defaults };
  const allowed = Object.keys(defaults);
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!(k in defaults)) {
      throw new Error(`${where}: unknown key "${k}"; allowed keys: ${allowed.join(', ')}`);
    }
    const want = typeof defaults[k];
    if (typeof v !== want || (want === 'number' && !Number.isFinite(v))) {
      throw new Error(`${where}.${k}: expected a finite ${want}, got ${JSON.stringify(v)} (${typeof v})`);
    }
    out[k] = v as ConfigValue;
  }
  return out as C;
}

/** Fails with a message naming the key when `ok` is false (range checks after parsing). */
export function check(ok: boolean, where: string, key: string, expected: string, got: unknown): void {
  if (!ok) throw new Error(`${where}.${key}: expected ${expected}, got ${JSON.stringify(got)}`);
}

/**
 * The methods a pipeline stage can name, each with its own config parser (declared in src/algos/, where a
 * method's config rejects unknown keys and bad values). The pipeline schema looks settings up here by
 * name; a method is one entry in a table.
 */
import { cosoConfig } from '../algos/coso.ts';
import { OFFLINE_METHODS as OFFLINE } from '../algos/offline-methods.ts';
import { afsftConfig } from '../algos/afsft.ts';
import { PPO_DEFAULTS, ppoConfig } from '../algos/ppo.ts';
import type { SettingsDecl } from './schema.ts';

/** CoSo is PPO plus the counterfactual entropy bonus: its settings are PPO's and its own, side by side. */
function cosoWithPpo(raw: unknown): Record<string, unknown> {
  if (raw === undefined) return { ...ppoConfig(), ...cosoConfig() };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`coso: expected an object of settings, got ${JSON.stringify(raw)}`);
  }
  const ppoPart: Record<string, unknown> = {};
  const cosoPart: Record<string, unknown> = {};
  const own = Object.keys(cosoConfig());
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in PPO_DEFAULTS) && !own.includes(k)) {
      throw new Error(`coso: unknown key "${k}"; allowed keys: ${[...Object.keys(PPO_DEFAULTS), ...own].join(', ')}`);
    }
    (k in PPO_DEFAULTS ? ppoPart : cosoPart)[k] = v;
  }
  return { ...ppoConfig(ppoPart), ...cosoConfig(cosoPart) };
}

export const OFFLINE_METHODS: Record<string, SettingsDecl> = Object.fromEntries(Object.entries(OFFLINE).map(([name, m]) => [name, m.config]));

export const ONLINE_METHODS: Record<string, SettingsDecl> = {
  ppo: ppoConfig,
  coso: cosoWithPpo,
  afsft: afsftConfig,
};

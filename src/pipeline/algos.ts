/**
 * The methods a pipeline stage can name, each with its own config (declared in src/algos/, where
 * `xxxConfig(raw)` rejects unknown keys and bad values). The pipeline schema looks settings up here by
 * name; adding a method is one line in a table.
 */
import { AFSFT_DEFAULTS, afsftConfig } from '../algos/afsft.ts';
import { COSO_DEFAULTS, cosoConfig } from '../algos/coso.ts';
import { PPO_DEFAULTS, ppoConfig } from '../algos/ppo.ts';
import { SFT_DEFAULTS, sftConfig } from '../algos/sft.ts';

export interface MethodConfig { parse(raw: unknown): Record<string, unknown>; defaults: Record<string, unknown> }

/** CoSo is PPO plus the counterfactual entropy bonus: its settings are PPO's and its own, side by side. */
function cosoWithPpo(raw: unknown): Record<string, unknown> {
  if (raw === undefined) return { ...ppoConfig(), ...cosoConfig() };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`coso: expected an object of settings, got ${JSON.stringify(raw)}`);
  }
  const ppoPart: Record<string, unknown> = {};
  const cosoPart: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k in PPO_DEFAULTS) ppoPart[k] = v;
    else if (k in COSO_DEFAULTS) cosoPart[k] = v;
    else throw new Error(`coso: unknown key "${k}"; allowed keys: ${[...Object.keys(PPO_DEFAULTS), ...Object.keys(COSO_DEFAULTS)].join(', ')}`);
  }
  return { ...ppoConfig(ppoPart), ...cosoConfig(cosoPart) };
}

export const OFFLINE_METHODS: Record<string, MethodConfig> = {
  sft: { parse: (raw) => sftConfig(raw, 'sft'), defaults: SFT_DEFAULTS },
  'filtered-bc': { parse: (raw) => sftConfig(raw, 'filtered-bc'), defaults: SFT_DEFAULTS },
  afsft: { parse: afsftConfig, defaults: AFSFT_DEFAULTS },
};

export const ONLINE_METHODS: Record<string, MethodConfig> = {
  ppo: { parse: ppoConfig, defaults: PPO_DEFAULTS },
  coso: { parse: cosoWithPpo, defaults: { ...PPO_DEFAULTS, ...COSO_DEFAULTS } },
  afsft: { parse: afsftConfig, defaults: AFSFT_DEFAULTS },
};

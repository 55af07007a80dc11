/**
 * The methods a pipeline stage can name, each with its own config parser (declared in src/algos/ and
 * src/rollout/, where a method's config rejects unknown keys and bad values). The pipeline schema looks
 * settings up here by name; a method is one entry in a table.
 */
import { OFFLINE_METHODS as OFFLINE } from '../algos/offline-methods.ts';
import { onlineSettings } from '../rollout/train-online.ts';
import type { SettingsDecl } from './schema.ts';

export const OFFLINE_METHODS: Record<string, SettingsDecl> = Object.fromEntries(Object.entries(OFFLINE).map(([name, m]) => [name, m.config]));

export const ONLINE_METHODS: Record<string, SettingsDecl> = Object.fromEntries(['ppo', 'coso', 'afsft'].map((name) => [name, (raw: unknown) => onlineSettings(name, raw)]));

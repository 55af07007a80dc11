import { UsageError, type Command } from './command.ts';
import { probeProvider } from '../engine/device/probe.mjs';
import { parseProvider, PROVIDERS, type Provider } from '../engine/device/provider.mjs';

/** `o2o providers [NAME…]`: which execution providers start on this machine, and what is missing where not. */
export const command: Command = {
  name: 'providers',
  summary: 'Check which execution providers (cpu, webgpu, cuda) work here; name what is missing and how to install it',
  usage: '[cpu|webgpu|cuda…]',
  options: {},
  async run({ positionals }) {
    let wanted: Provider[];
    try {
      wanted = positionals.length ? positionals.map(parseProvider) : [...PROVIDERS];
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    let failed = 0;
    for (const p of wanted) {
      const r = await probeProvider(p);
      console.log(r.ok ? `${p}: ok` : `${p}: not available\n  ${r.reason.replace(/\n/g, '\n  ')}`);
      if (!r.ok) failed++;
    }
    return failed ? 1 : 0;
  },
};

/**
 * Where a Blackjack policy loses against the DP expert, step by step, on the episodes `o2o eval` plays:
 *   npx tsx tools/blackjack-errors.ts <policy.safetensors> [episodes] [seed]
 * For every generated utterance: did it parse, did its read-out ("dealer card", "player cards") match the
 * true state, and did its action match the expert's (src/envs/policies/scripted.ts: P(win)-maximising) for
 * that state. Prints the counts and up to 16 examples of each kind of error.
 */
import { openRunner } from '../src/engine/index.ts';
import { GymCardsEnv } from '../src/envs/env.ts';
import { makePolicy } from '../src/envs/policies/scripted.ts';
import { openGenerator } from '../src/models/generate.ts';
import { collectRollout, type ActorPolicy } from '../src/rollout/actor.ts';
import { modelPolicy } from '../src/rollout/model-policy.ts';
import { loadPolicy } from '../src/rollout/policy-file.ts';
import { Rng } from '../src/util/rng.ts';

const [file, episodesArg, seedArg] = process.argv.slice(2);
if (!file) throw new Error('usage: tools/blackjack-errors.ts <policy.safetensors> [episodes] [seed]');
const episodes = Number(episodesArg ?? 1000), seed = Number(seedArg ?? 12345);
const { vlm, version } = loadPolicy(file);
const runner = await openRunner({ threads: 1, thread: 'inline' });
const gen = await openGenerator(vlm, runner);
const envs = Array.from({ length: 16 }, (_, n) => new GymCardsEnv('blackjack', { seed: n }));
const owner = new Map<object, GymCardsEnv>(); // which env an observation came from
const actorEnvs = envs.map((env) => ({
  async reset(s: number) { const obs = await env.reset(s); owner.set(obs, env); return obs; },
  async step(text: string) { const r = await env.step(text); owner.set(r.obs, env); return r; },
}));
const expert = makePolicy('expert', new Rng(0));
const model = modelPolicy(gen, vlm, version, 0.2);
const counts = { steps: 0, unparsed: 0, misread: 0, misreadAndOtherAction: 0, readRightOtherAction: 0 };
const misreads: string[] = [], wrongActs: string[] = [];
const policy: ActorPolicy = {
  ...model,
  async generate(obs, s) {
    const out = await model.generate(obs, s);
    out.forEach((g, i) => {
      const env = owner.get(obs[i])!;
      owner.delete(obs[i]);
      const truth = env.game.readout();
      const want = JSON.parse(expert.act(env)).action;
      counts.steps++;
      let got: Record<string, string>;
      try { got = JSON.parse(g.text); } catch { counts.unparsed++; return; }
      const read = Object.keys(truth).every((k) => String(got[k]) === truth[k]);
      if (!read) {
        counts.misread++;
        if (got.action !== want) counts.misreadAndOtherAction++;
        if (misreads.length < 16) misreads.push(`true ${JSON.stringify(truth)}; read ${got['dealer card']} | ${got['player cards']}; ${got.action} (expert: ${want})`);
      } else if (got.action !== want) {
        counts.readRightOtherAction++;
        if (wrongActs.length < 16) wrongActs.push(`${JSON.stringify(truth)}: "${got.thoughts}" ${got.action} (expert: ${want})`);
      }
    });
    return out;
  },
};
await collectRollout(actorEnvs, policy, { task: envs[0].task, episodes, seed, batchIndex: -1, runId: 'eval', source: 'eval', concurrency: 16 });
await gen.close();
await runner.close();
console.log(JSON.stringify(counts));
console.log('misread:\n  ' + misreads.join('\n  '));
console.log('read right, other action than the expert:\n  ' + wrongActs.join('\n  '));

/**
 * Where a Blackjack policy loses against the DP expert, step by step, on the episodes `o2o eval` plays:
 *   npx tsx tools/blackjack-errors.ts <policy.safetensors> [episodes] [seed]
 * For every generated utterance: did it parse, did its read-out ("dealer card", "player cards") match the
 * true state, and did its action match the expert's (src/envs/policies/scripted.ts: P(win)-maximising) for
 * that state. Prints the counts and up to 16 examples of each kind of error.
 */
import { openRunner } from '../src/engine/index.ts';
import { makePolicy } from '../src/envs/policies/scripted.ts';
import { openGenerator } from '../src/models/generate.ts';
import type { ActorPolicy } from '../src/rollout/actor.ts';
import { play, trackedEnvs } from '../src/rollout/evaluate.ts';
import { modelPolicy } from '../src/rollout/model-policy.ts';
import { loadPolicy } from '../src/rollout/policy-file.ts';
import { Rng } from '../src/util/rng.ts';

const [file, episodesArg, seedArg] = process.argv.slice(2);
if (!file) throw new Error('usage: tools/blackjack-errors.ts <policy.safetensors> [episodes] [seed]');
const episodes = Number(episodesArg ?? 1000), seed = Number(seedArg ?? 12345);
const { vlm, version } = loadPolicy(file);
const runner = await openRunner({ threads: 1, thread: 'inline' });
const gen = await openGenerator(vlm, runner);
const { actorEnvs, envOf } = trackedEnvs('blackjack', 16);
const expert = makePolicy('expert', new Rng(0));
const model = modelPolicy(gen, vlm, version, 0.2);
const counts = { steps: 0, unparsed: 0, misread: 0, misreadAndOtherAction: 0, readRightOtherAction: 0 };
const misreads: string[] = [], wrongActs: string[] = [];
const policy: ActorPolicy = {
  ...model,
  async generate(obs, s) {
    const out = await model.generate(obs, s);
    out.forEach((g, i) => {
      const env = envOf(obs[i]);
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
const summary = await play(actorEnvs, policy, { task: 'blackjack', episodes, seed, envs: 16 });
await gen.close();
await runner.close();
console.log(JSON.stringify({ winRate: summary.success.value, ...counts }));
console.log('misread:\n  ' + misreads.join('\n  '));
console.log('read right, other action than the expert:\n  ' + wrongActs.join('\n  '));

/** Shared test fixtures for algos and rollout: a scripted-policy NumberLine dataset in a real store, a tiny VLM config. */
import { GymCardsEnv } from '../../src/envs/env.ts';
import { makePolicy } from '../../src/envs/policies/scripted.ts';
import { openTable, rowsToBatch, type StepRow } from '../../src/store/index.ts';
import { Rng } from '../../src/util/rng.ts';

/** A VLM small enough for tests: every method's step runs in well under a second. */
export const TINY_MODEL = {
  imageSize: 16, patchSize: 8, dModel: 32, layers: 1, heads: 2, ffn: 64, headHidden: 32, maxPromptTokens: 8, maxNewTokens: 256,
};

/** `episodes` NumberLine episodes of the noisy scripted policy, appended to <root>/<dataset> in one commit. */
export async function noisyNumberLine(root: string, dataset: string, episodes: number, seed = 0, noise = { pRead: 0.3, pAct: 0.3 }): Promise<StepRow[]> {
  const env = new GymCardsEnv('numberline', { seed });
  const policy = makePolicy('noisy', new Rng(seed + 1), noise);
  const rows: StepRow[] = [];
  for (let e = 0; e < episodes; e++) {
    let obs = env.resetSync(seed * 100_000 + e);
    for (let t = 0, done = false; !done; t++) {
      const text = policy.act(env);
      const r = env.stepSync(text);
      rows.push({
        episode_id: `ep${e}`, step: t, task: env.task, source: 'demo', policy_version: -1, obs_image: obs.image, obs_text: obs.text,
        output_text: text, output_tokens: null, output_logprobs: null, action_start: null, tokenizer: null, action_text: r.actionText,
        action_valid: r.actionValid, reward: r.reward, terminated: r.terminated, truncated: r.truncated, value: null, info: null, created_at: 0,
      });
      obs = r.obs;
      done = r.terminated || r.truncated;
    }
  }
  const table = await openTable(root, dataset, { create: true });
  await table.append([rowsToBatch(rows)]);
  return rows;
}

/**
 * Scripted baselines on the evaluation's episodes (real envs): the expert solves NumberLine, a random policy
 * does not, results are a function of the seed, and the eval command takes a policy file or a scripted policy.
 */
import { describe, expect, it } from 'vitest';
import { command } from '../../src/cli/eval.ts';
import { UsageError } from '../../src/cli/command.ts';
import { evaluateScripted } from '../../src/rollout/evaluate.ts';

describe('evaluateScripted', () => {
  it('the expert solves NumberLine; random play succeeds far less (28.3% expected)', async () => {
    const expert = await evaluateScripted({ policy: 'expert', task: 'numberline', episodes: 200, seed: 3, envs: 8 });
    expect(expert.episodes).toBe(200);
    expect(expert.success.value).toBe(1);
    expect(expert.invalidAction.value).toBe(0);
    const random = await evaluateScripted({ policy: 'random', task: 'numberline', episodes: 400, seed: 3, envs: 8 });
    expect(random.success.value).toBeGreaterThan(0.18);
    expect(random.success.value).toBeLessThan(0.4);
  });

  it('plays the same deals for the same seed and others for another seed (Blackjack expert)', async () => {
    const o = { policy: 'expert' as const, task: 'blackjack', episodes: 300, envs: 8 };
    const a = await evaluateScripted({ ...o, seed: 5 });
    const b = await evaluateScripted({ ...o, seed: 5 });
    const c = await evaluateScripted({ ...o, seed: 6 });
    expect(b).toEqual(a);
    expect(c.meanReturn.value === a.meanReturn.value && c.meanLength === a.meanLength).toBe(false);
  });

  it('o2o eval takes exactly one of --checkpoint and --scripted', async () => {
    const base = { task: 'numberline', episodes: '4', envs: '2', seed: '1', temperature: '0.2', noise: '0.1', json: true };
    const run = (v: Record<string, unknown>) => command.run({ values: { ...base, ...v }, positionals: [] } as never);
    await expect(run({})).rejects.toThrow(UsageError);
    await expect(run({ checkpoint: 'x.safetensors', scripted: 'expert' })).rejects.toThrow(UsageError);
    await expect(run({ scripted: 'oracle' })).rejects.toThrow(/expert, noisy, random/);
    await expect(run({ scripted: 'noisy', noise: '1.5' })).rejects.toThrow(UsageError);
    expect(await run({ scripted: 'expert' })).toBe(0);
  });
});

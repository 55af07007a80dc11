import { describe, expect, it } from 'vitest';
import { linkEpisodes, requireColumns } from '../../src/algos/episodes.ts';

const row = (episode_id: string, step: number, reward: number, terminated = false, truncated = false) => ({ episode_id, step, reward, terminated, truncated });

describe('linkEpisodes', () => {
  it('links each row to its next step, in any row order, with episode returns', () => {
    const rows = [row('b', 1, 1, true), row('a', 0, 0), row('b', 0, -1), row('a', 1, -1, false, true), row('c', 0, 0)];
    const l = linkEpisodes(rows);
    expect(Array.from(l.next)).toEqual([-1, 3, 0, -1, -1]);
    expect(Array.from(l.episodeReturn)).toEqual([0, -1, 0, -1, 0]);
    expect(Array.from(l.complete)).toEqual([1, 1, 1, 1, 0]);
    expect(l.episodes).toBe(3);
  });

  it('names the episode and step when a step is missing or an episode goes on after its end', () => {
    expect(() => linkEpisodes([row('x', 0, 0), row('x', 2, 0)], 'nl')).toThrow(/nl: episode "x": expected step 1, found step 2/);
    expect(() => linkEpisodes([row('y', 0, 0, true), row('y', 1, 0)])).toThrow(/episode "y": step 0 ends the episode but step 1 follows/);
  });

  it('requireColumns names what is missing and what to do', () => {
    expect(() => requireColumns((c) => c !== 'output_logprobs', ['output_tokens', 'output_logprobs'], 'ppo', 'imported'))
      .toThrow(/ppo needs the column\(s\) output_logprobs, which dataset "imported" lacks/);
    expect(() => requireColumns(() => true, ['a'], 'sft', 'd')).not.toThrow();
  });
});

import { keepRows, sftConfig, sftLossReference } from '../../src/algos/sft.ts';

describe('SFT and filtered BC', () => {
  it('filtered BC keeps only the rows of successful episodes (return > 0)', () => {
    const l = linkEpisodes([row('a', 0, 0), row('a', 1, 1, true), row('b', 0, -1, true), row('c', 0, 0, false, true)]);
    expect(keepRows('filtered-bc', l.episodeReturn)).toEqual([0, 1]);
    expect(keepRows('sft', l.episodeReturn)).toEqual([0, 1, 2, 3]);
  });

  it('the loss is the mean negative log-likelihood over generated tokens; config round-trips', () => {
    expect(sftLossReference([-1, -3, -100], [1, 1, 0])).toBeCloseTo(2, 12);
    const c = sftConfig({ lr: 1e-3 });
    expect(sftConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(() => sftConfig({ lr: 1, foo: 2 }, 'filtered-bc')).toThrow(/filtered-bc: unknown key "foo"/);
  });
});

import { describe, expect, test, vi } from 'vitest';
import { command } from '../../src/cli/inspect.ts';
import { parseCommandArgs } from '../../src/cli/command.ts';
import { openTable, rowsToBatch } from '../../src/store/index.ts';
import { makeRows, tempRoot } from './fixtures.ts';

async function inspect(argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { lines.push(a.join(' ')); });
  try {
    const code = await command.run(parseCommandArgs(command, argv) as never);
    return { code, out: lines.join('\n') };
  } finally {
    spy.mockRestore();
  }
}

describe('o2o inspect', () => {
  test('rows, episodes, tasks, sources, success rates, returns, versions; --version travels back', async () => {
    const root = tempRoot();
    const table = await openTable(root, 'cards', { create: true });
    // fixtures: odd episodes are NumberLine with return +1, even ones Blackjack with -1.
    await table.append([rowsToBatch(makeRows({ episodes: 4, steps: 3, prefix: 'a' }))]);
    await table.append([rowsToBatch(makeRows({ episodes: 2, steps: 5, prefix: 'b', source: 'online', policyVersion: 2 }))]);
    const { code, out } = await inspect(['cards', '--root', root]);
    expect(code).toBe(0);
    expect(out).toContain('dataset cards: version 2, 22 steps in 6 episodes');
    expect(out).toMatch(/gym_cards\/NumberLine-v0\s+11\s+3\s+100\.0%/);
    expect(out).toMatch(/gym_cards\/Blackjack-v0\s+11\s+3\s+0\.0%/);
    expect(out).toMatch(/online\s+10\s+2\s+50\.0%/);
    expect(out).toContain('policy versions (steps): -1: 3, 0: 3, 1: 3, 2: 13');
    expect(out).toMatch(/\[\s+-1\.00,\s+-0\.80\)\s+3 #+/);
    expect(out).toMatch(/v2 .* WRITE {2}\+10 steps in 2 files/);
    const old = await inspect(['cards', '--root', root, '--version', '1']);
    expect(old.out).toContain('dataset cards: version 1 (latest 2), 12 steps in 4 episodes');
    await expect(inspect(['nope', '--root', root])).rejects.toThrow(/no dataset "nope"/);
  });
});

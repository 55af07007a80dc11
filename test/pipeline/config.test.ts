import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline, parsePipeline, pipelineReference, PIPELINE_SCHEMA } from '../../src/pipeline/config.ts';
import { ConfigError } from '../../src/pipeline/schema.ts';

const problemsOf = (yaml: string): { path: string; message: string }[] => {
  try {
    parsePipeline(yaml, 'test.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

const minimal = 'dataset: d\n';

describe('pipeline config', () => {
  it('every shipped config in pipelines/ is valid', () => {
    const files = readdirSync('pipelines').filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['numberline.yaml', 'ezpoints.yaml', 'points24.yaml', 'blackjack.yaml', 'remote-numberline.yaml']));
    for (const f of files) {
      const { config } = loadPipeline(path.join('pipelines', f));
      expect(config.name).toBe(f.replace('.yaml', ''));
      expect(config.stages.eval).toBeDefined();
    }
    expect(loadPipeline('numberline').config.stages.online?.envs.task).toBe('numberline');
    expect(loadPipeline('remote-numberline').config.stages.online?.envs.remote?.url).toMatch(/^http:/);
  });

  it('fills defaults from the schema', () => {
    const c = parsePipeline('dataset: d\nstages:\n  offline: {}\n  online: { envs: { task: numberline } }\n', 'x.yaml');
    expect(c.seed).toBe(0);
    expect(c.engine).toEqual({ provider: 'cpu', threads: 2 });
    expect(c.model).toMatchObject({ dModel: 128, tokenizer: 'byte' });
    expect(c.stages.offline).toMatchObject({ algo: 'afsft', steps: 2000, checkpointEvery: 100 });
    expect(c.stages.offline?.settings).toMatchObject({ gamma: 0.9, filter: 'binary', batchSize: 32 });
    expect(c.stages.online).toMatchObject({ algo: 'ppo', envSteps: 5000, envs: { task: 'numberline', count: 8 } });
    expect(c.stages.online?.settings).toMatchObject({ clipEps: 0.1, epochs: 4 });
    expect(c.stages.ingest).toBeUndefined();
    expect(c.stages.eval).toBeUndefined();
  });

  it('round-trips through JSON (the frozen config of a run folder)', () => {
    const { config } = loadPipeline('pipelines/numberline.yaml');
    const again = parsePipeline(JSON.stringify(config), 'config.json');
    expect(again).toEqual(config);
  });

  it('an unknown key at any depth names the key, its path and the allowed keys', () => {
    const cases: [string, string, string][] = [
      ['dataset: d\nsed: 1\n', 'sed', 'name, seed, dataset, root, model, engine, stages'],
      ['dataset: d\nengine: { provider: cpu, thread: 2 }\n', 'engine.thread', 'provider, threads'],
      ['dataset: d\nstages: { train: {} }\n', 'stages.train', 'ingest, offline, online, eval'],
      ['dataset: d\nstages: { ingest: { generate: { task: numberline, episode: 5 } } }\n', 'stages.ingest.generate.episode', 'task, policy, episodes, noise, source, batch'],
      ['dataset: d\nstages: { ingest: { files: [ { path: a.jsonl, fmt: jsonl } ] } }\n', 'stages.ingest.files[0].fmt', 'path, format'],
      ['dataset: d\nstages: { online: { envs: { task: numberline, remote: { url: "http://x", token: abc } } } }\n', 'stages.online.envs.remote.token', 'url, tokenEnv, concurrency'],
    ];
    for (const [yaml, keyPath, allowed] of cases) {
      const ps = problemsOf(yaml);
      expect(ps, yaml).toHaveLength(1);
      expect(ps[0].path).toBe(keyPath);
      expect(ps[0].message).toContain(`unknown key "${keyPath.split('.').pop()!.replace(/\[\d+\]$/, '')}"`);
      expect(ps[0].message).toContain(`allowed keys: ${allowed}`);
    }
  });

  it("an algorithm's own settings are checked by that algorithm's config", () => {
    const off = problemsOf('dataset: d\nstages: { offline: { algo: afsft, settings: { gama: 0.5 } } }\n');
    expect(off).toHaveLength(1);
    expect(off[0].path).toBe('stages.offline.settings');
    expect(off[0].message).toMatch(/unknown key "gama".*allowed keys: gamma/);
    // CoSo takes PPO's settings and its own side by side.
    const c = parsePipeline('dataset: d\nstages: { online: { algo: coso, envs: { task: numberline }, settings: { clipEps: 0.2, alpha: 0.3 } } }\n', 'x.yaml');
    expect(c.stages.online?.settings).toMatchObject({ clipEps: 0.2, alpha: 0.3, window: 4, epochs: 4 });
    const bad = problemsOf('dataset: d\nstages: { online: { algo: ppo, envs: { task: numberline }, settings: { alpha: 0.3 } } }\n');
    expect(bad[0].message).toMatch(/ppo: unknown key "alpha"/);
    const range = problemsOf('dataset: d\nstages: { online: { algo: ppo, envs: { task: numberline }, settings: { clipEps: 2 } } }\n');
    expect(range[0].message).toMatch(/clipEps: expected a number in \(0, 1\), got 2/);
  });

  it('wrong types and values say what was expected and what arrived, all problems at once', () => {
    const ps = problemsOf([
      'dataset: 5',
      'seed: -1',
      'engine: { provider: tpu, threads: 1.5 }',
      'stages:',
      '  online: { algo: dqn, envSteps: "100", envs: { task: numberline, count: [1] } }',
      '  ingest: {}',
    ].join('\n'));
    const by = Object.fromEntries(ps.map((p) => [p.path, p.message]));
    expect(by.dataset).toBe('expected a non-empty string, got 5 (number)');
    expect(by.seed).toBe('expected a number ≥ 0, got -1');
    expect(by['engine.provider']).toBe('expected one of cpu, cuda, webgpu, got "tpu" (string)');
    expect(by['engine.threads']).toBe('expected an integer, got 1.5');
    expect(by['stages.online.algo']).toMatch(/expected one of ppo, coso, afsft, got "dqn"/);
    expect(by['stages.online.envSteps']).toBe('expected a finite number, got "100" (string)');
    expect(by['stages.online.envs.count']).toMatch(/^expected a finite number, got a list/);
    expect(by['stages.ingest']).toBe('expected at least one of files, generate; got none');
    expect(ps).toHaveLength(8);
  });

  it('a missing required field is an error, and so is a duplicate key or bad YAML', () => {
    expect(problemsOf('seed: 1\n')).toEqual([{ path: 'dataset', message: expect.stringMatching(/^required/) }]);
    expect(problemsOf('dataset: d\nstages: { eval: { episodes: 5 } }\n')[0].path).toBe('stages.eval.envs.task');
    expect(problemsOf('dataset: d\ndataset: e\n')[0].message).toMatch(/not valid YAML.*unique/i);
    expect(problemsOf('dataset: [\n')[0].message).toMatch(/not valid YAML/);
    expect(problemsOf(minimal)).toEqual([]);
  });

  it('the reference lists every field of the schema with its default', () => {
    const ref = pipelineReference();
    const paths: string[] = [];
    const walk = (s: { kind: string; fields?: Record<string, unknown>; of?: unknown }, p: string) => {
      if (p) paths.push(p);
      if (s.kind === 'object') for (const [k, sub] of Object.entries(s.fields!)) walk(sub as never, p ? `${p}.${k}` : k);
      if (s.kind === 'list') walk(s.of as never, `${p}[]`);
    };
    walk(PIPELINE_SCHEMA, '');
    for (const p of paths) expect(ref).toContain(`| \`${p}\` |`);
    expect(ref).toContain('`stages.online.settings` (algo = coso)');
    expect(ref).toMatch(/`stages.offline.steps` \| integer ≥ 1 \| `2000`/);
    // README's config reference is generated from the schema and must match it.
    expect(readFileSync('README.md', 'utf8')).toContain(ref);
  });
});

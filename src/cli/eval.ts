import { intOption, UsageError, type Command } from './command.ts';
import { POLICY_KINDS, type PolicyKind } from '../envs/policies/scripted.ts';
import { evaluate, evaluateScripted } from '../rollout/evaluate.ts';

const pct = (x: { value: number; lo: number; hi: number }) => `${(100 * x.value).toFixed(1)}% [${(100 * x.lo).toFixed(1)}, ${(100 * x.hi).toFixed(1)}]`;

/** `o2o eval`: success rate, mean return and invalid-action rate of a policy on fresh episodes, with 95% intervals. */
export const command: Command = {
  name: 'eval',
  summary: 'Evaluate a policy on fresh episodes: success rate, mean return, invalid-action rate (95% intervals)',
  usage: '--checkpoint runs/NAME/policy.safetensors --task numberline --episodes N  |  --scripted expert --task blackjack --episodes N',
  options: {
    checkpoint: { type: 'string', help: 'a policy file (policy.safetensors of a run folder)' },
    scripted: { type: 'string', help: 'instead of a policy file: a scripted policy (expert, noisy, random) on the same episodes a policy file gets for this seed' },
    noise: { type: 'string', default: '0.1', help: 'with --scripted noisy: probability of a wrong reading and of a wrong action per step' },
    task: { type: 'string', help: 'numberline, ezpoints, points24 or blackjack' },
    episodes: { type: 'string', default: '200', help: 'episodes to play' },
    envs: { type: 'string', default: '16', help: 'environments stepped side by side (one generation batch)' },
    seed: { type: 'string', default: '12345', help: 'seed of the episodes and of sampling' },
    temperature: { type: 'string', default: '0.2', help: 'sampling temperature (0.2: RL4VLM\'s, spec §2)' },
    json: { type: 'boolean', help: 'print the summary as JSON' },
    threads: { type: 'string', help: 'CPU threads for onnxruntime' },
  },
  async run({ values }) {
    if ((typeof values.checkpoint === 'string') === (typeof values.scripted === 'string')) {
      throw new UsageError('give either --checkpoint FILE or --scripted expert|noisy|random');
    }
    if (typeof values.task !== 'string') throw new UsageError('--task NAME is required');
    const temperature = Number(values.temperature);
    if (!(temperature > 0)) throw new UsageError(`--temperature: expected a positive number, got ${JSON.stringify(values.temperature)}`);
    const common = { task: values.task, episodes: intOption(values, 'episodes'), envs: intOption(values, 'envs'), seed: intOption(values, 'seed') };
    let s;
    if (typeof values.scripted === 'string') {
      if (!POLICY_KINDS.includes(values.scripted as PolicyKind)) throw new UsageError(`--scripted: expected one of ${POLICY_KINDS.join(', ')}, got ${JSON.stringify(values.scripted)}`);
      const noise = Number(values.noise);
      if (!(noise >= 0 && noise <= 1)) throw new UsageError(`--noise: expected a number in [0, 1], got ${JSON.stringify(values.noise)}`);
      s = await evaluateScripted({ ...common, policy: values.scripted as PolicyKind, noise });
    } else {
      s = await evaluate({ ...common, policyFile: values.checkpoint as string, temperature, threads: values.threads === undefined ? undefined : intOption(values, 'threads') });
    }
    if (values.json) console.log(JSON.stringify(s));
    else {
      console.log(`${s.episodes} episodes of ${values.task}`);
      console.log(`  success         ${pct(s.success)}`);
      console.log(`  mean return     ${s.meanReturn.value.toFixed(3)} [${s.meanReturn.lo.toFixed(3)}, ${s.meanReturn.hi.toFixed(3)}]`);
      console.log(`  invalid actions ${pct(s.invalidAction)} of steps`);
      console.log(`  mean length     ${s.meanLength.toFixed(2)} steps`);
    }
    return 0;
  },
};

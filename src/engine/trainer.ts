/**
 * A trainer: a training-step model loaded into a {@link Runner}, its params, optimizer slots and step held
 * in the runner's state (they never leave the runner between steps), checkpoints in safetensors.
 */
import { formatShape, type HostTensor, hostTensor } from './dtype.ts';
import { loadSafetensors, saveSafetensors } from './checkpoint.ts';
import type { Runner, Session } from './runner.ts';
import type { TrainStepModel } from './train.ts';

export interface Trainer {
  /** One update. Returns 'loss', 'grad_norm' and the metrics. */
  step(batch: Record<string, HostTensor>, lr: number): Promise<Record<string, HostTensor>>;
  /** K updates in one run (K = lrs.length); batch tensors stacked [K, ...]; metrics come back stacked [K, ...]. */
  steps(stacked: Record<string, HostTensor>, lrs: number[]): Promise<Record<string, HostTensor>>;
  /** Params, optimizer slots and 'step' (int64 []: updates done). */
  state(): Promise<Record<string, HostTensor>>;
  /** Trainable params only. */
  params(): Promise<Record<string, HostTensor>>;
  save(file: string, metadata?: Record<string, string>): Promise<void>;
  /** Restores a checkpoint written by `save`; returns its metadata. */
  load(file: string): Promise<Record<string, string>>;
  /** Closes the trainer's sessions (the runner and its state stay). */
  close(): Promise<void>;
}

export async function openTrainer(runner: Runner, model: TrainStepModel): Promise<Trainer> {
  await runner.setState(model.initialState());
  const lrType = model.initialState()[model.params[0]].dtype;
  const single = await runner.open(model.single(), model.carry);
  let loop: Session | undefined;

  const state = () => runner.getState(model.state);
  return {
    step: (batch, lr) => single.run({ ...batch, lr: hostTensor(lrType, [], [lr]) }),
    async steps(stacked, lrs) {
      for (const [name, t] of Object.entries(stacked)) {
        if (t.shape[0] !== lrs.length) throw new Error(`steps: ${name} is stacked [${t.shape}] but ${lrs.length} learning rates were given; stack one batch per update`);
      }
      loop ??= await runner.open(model.loop(), model.carry);
      return loop.run({ ...stacked, lr: hostTensor(lrType, [lrs.length], lrs) });
    },
    state,
    params: () => runner.getState(model.params),
    async save(file, metadata = {}) {
      const s = await state();
      saveSafetensors(file, s, { ...metadata, step: String((s.step.data as BigInt64Array)[0]) });
    },
    async load(file) {
      const { tensors, metadata } = loadSafetensors(file);
      const want = model.initialState();
      const problems: string[] = [];
      for (const [n, w] of Object.entries(want)) {
        const t = tensors[n];
        if (!t) problems.push(`${n}: missing`);
        else if (t.dtype !== w.dtype || formatShape(t.shape) !== formatShape(w.shape)) {
          problems.push(`${n}: expected ${w.dtype}${formatShape(w.shape)}, got ${t.dtype}${formatShape(t.shape)}`);
        }
      }
      for (const n of Object.keys(tensors)) if (!(n in want)) problems.push(`${n}: not part of this model`);
      if (problems.length) throw new Error(`${file}: checkpoint does not fit this training step:\n  ${problems.join('\n  ')}`);
      await runner.setState(tensors);
      return metadata;
    },
    async close() {
      await single.close();
      await loop?.close();
    },
  };
}

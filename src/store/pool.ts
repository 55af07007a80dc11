/**
 * A small pool of store worker threads (worker.ts), started on first use and shared by every table of
 * the process. Idle workers do not keep the process alive.
 */
import os from 'node:os';
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { WorkerTask } from './worker.ts';

interface Slot { worker: Worker; busy: number }
interface Pending { resolve(v: unknown): void; reject(e: Error): void; slot: Slot }

const SIZE = Math.max(1, Math.min(4, os.availableParallelism()));
const slots: Slot[] = [];
const pending = new Map<number, Pending>();
let nextId = 1;

function startWorker(): Slot {
  const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url));
  const slot: Slot = { worker, busy: 0 };
  worker.unref();
  worker.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (--slot.busy === 0) worker.unref();
    if (msg.error !== undefined) p.reject(new Error(msg.error));
    else p.resolve(msg.result);
  });
  worker.on('error', (e) => {
    for (const [id, p] of pending) if (p.slot === slot) { pending.delete(id); p.reject(e); }
    slots.splice(slots.indexOf(slot), 1);
  });
  slots.push(slot);
  return slot;
}

/**
 * Runs a task on an idle worker, starting another (up to one per core, at most 4) only when all are busy,
 * so that a process making small appends starts one. `transfer` lists buffers (or ports) moved to the worker.
 */
export function runInWorker<T>(task: WorkerTask, transfer: TransferListItem[] = []): Promise<T> {
  let slot = slots.find((s) => s.busy === 0);
  if (!slot) slot = slots.length < SIZE ? startWorker() : slots.reduce((a, b) => (b.busy < a.busy ? b : a));
  const id = nextId++;
  if (slot.busy++ === 0) slot.worker.ref();
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, slot });
    slot.worker.postMessage({ id, task }, transfer);
  });
}

/** How many tasks the pool runs at once. */
export const POOL_SIZE = SIZE;

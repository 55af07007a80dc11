// Worker thread hosting onnxruntime sessions (InferenceSession.run blocks its thread). Protocol: each
// message {id, method, args} gets {id, result} or {id, error}. See runner.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { createDeviceCore } from './device/device-core.mjs';
import { createCore } from './ort-core.mjs';

const core = (workerData.provider ?? 'cpu') === 'cpu' ? createCore(workerData) : createDeviceCore(workerData);
parentPort.on('message', async ({ id, method, args }) => {
  try {
    const result = await core[method](...args);
    parentPort.postMessage({ id, result });
  } catch (e) {
    parentPort.postMessage({ id, error: e instanceof Error ? e.message : String(e) });
  }
});

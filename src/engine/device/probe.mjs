// Does a provider work here? Opens and runs the Identity model on it, and says why not when it does not (the
// message of providerError: the missing piece and how to install it). Types: probe.d.mts.
import ort from 'onnxruntime-node';
import { openSession } from './provider.mjs';
import { identityModel } from './readback.mjs';

export async function probeProvider(provider) {
  let session;
  try {
    session = await openSession(identityModel('float32'), { provider });
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 2]), [2]) });
    if (out.y.location !== 'cpu' || out.y.data[1] !== 2) return { ok: false, reason: `'${provider}': Identity returned a wrong value` };
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  } finally {
    await session?.release();
  }
}

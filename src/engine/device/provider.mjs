// Opening onnxruntime sessions on an execution provider, and turning a provider that cannot start into an
// error that names the missing piece and the command that installs it. Plain JavaScript: the runner's worker
// thread imports it without a TypeScript loader. Types: provider.d.mts.
//
// What each provider needs (onnxruntime-node 1.30, Linux x64):
// - cpu: nothing.
// - webgpu: bundled (Dawn over Vulkan). Needs a Vulkan adapter: a GPU driver, or the software driver lavapipe
//   (Debian 12: `libvulkan1` and `mesa-vulkan-drivers` from bookworm-backports; Debian 12's own Mesa 22.3 is
//   refused by Dawn). Not built for Linux arm64.
// - cuda: not bundled. `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` downloads
//   libonnxruntime_providers_{cuda,shared,tensorrt}.so (NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux of the
//   same version) into onnxruntime-node's bin folder; the environment variable wins over the project's `.npmrc`
//   (`onnxruntime-node-install=skip`). They load only with the NVIDIA driver, CUDA 12 and cuDNN 9 on the
//   loader path.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ort from 'onnxruntime-node';

export const PROVIDERS = ['cpu', 'webgpu', 'cuda'];

/** onnxruntime's name for each provider, as written in profiles. */
export const EP_NAMES = { cpu: 'CPUExecutionProvider', webgpu: 'WebGpuExecutionProvider', cuda: 'CUDAExecutionProvider' };

export function parseProvider(s) {
  if (PROVIDERS.includes(s)) return s;
  throw new Error(`execution provider: expected one of ${PROVIDERS.join(', ')}, got ${JSON.stringify(s)}`);
}

/** The folder holding onnxruntime-node's native libraries for this platform. */
export function ortBinDir() {
  const main = createRequire(import.meta.url).resolve('onnxruntime-node');
  return path.join(path.dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** Opens a session on `opts.provider`; a provider that cannot start throws providerError's message. */
export async function openSession(model, opts) {
  const so = {
    executionProviders: [opts.provider],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    // 3 = errors only: onnxruntime warns on every GPU session that shape ops were placed on the CPU
    // (placement.mjs reports those nodes by name instead).
    logSeverityLevel: 3,
  };
  if (opts.threads) so.intraOpNumThreads = opts.threads;
  if (opts.outputLocation) so.preferredOutputLocation = opts.outputLocation;
  if (opts.profilePrefix) {
    so.enableProfiling = true;
    so.profileFilePrefix = opts.profilePrefix;
  }
  try {
    return await ort.InferenceSession.create(model, so);
  } catch (e) {
    throw providerError(opts.provider, e);
  }
}

/**
 * An Error for a model that failed to open on `provider`: what is missing and how to install it when the
 * cause is a known missing piece, otherwise onnxruntime's own message with the provider named.
 */
export function providerError(provider, cause) {
  const msg = (cause instanceof Error ? cause.message : String(cause)).trim();
  const lead = `onnxruntime could not open the model on the '${provider}' execution provider`;
  let hint;
  if (provider === 'webgpu' && /WebGPU adapter|No supported adapters/i.test(msg)) {
    hint =
      "no Vulkan adapter was found. Install a Vulkan driver: the GPU vendor's driver, or on a machine without a " +
      'GPU the software driver lavapipe (Debian 12: enable bookworm-backports, then `apt-get install -t ' +
      "bookworm-backports mesa-vulkan-drivers libvulkan1`; Debian 12's own Mesa 22.3 is too old for Dawn). " +
      '`vulkaninfo --summary` lists the adapters.';
  } else if (provider === 'webgpu' && /backend not found/i.test(msg)) {
    hint = `this onnxruntime-node build has no WebGPU provider for ${process.platform}/${process.arch}.`;
  } else if (provider === 'cuda' && /Failed to load shared library|providers_shared|providers_cuda/i.test(msg)) {
    const lib = path.join(ortBinDir(), 'libonnxruntime_providers_cuda.so');
    hint = existsSync(lib)
      ? `${lib} is installed but did not load: it needs the NVIDIA driver, CUDA 12 (libcudart.so.12, ` +
        'libcublas.so.12, libcublasLt.so.12, libcufft.so.11) and cuDNN 9 (libcudnn.so.9) on the loader path ' +
        `(LD_LIBRARY_PATH). \`ldd ${lib} | grep 'not found'\` names the missing ones.`
      : `onnxruntime-node's CUDA libraries are not installed (no ${lib}). Install them with ` +
        '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` (downloads them from NuGet; needs the ' +
        'NVIDIA driver, CUDA 12 and cuDNN 9 at run time).';
  }
  const err = new Error(hint ? `${lead}: ${hint}\nonnxruntime said: ${msg}` : `${lead}.\nonnxruntime said: ${msg}`);
  err.cause = cause;
  return err;
}

// koffi with its call stack sized for onnxruntime: synchronous calls run on a stack koffi allocates (2 MiB
// by default), and onnxruntime's kernels and nested subgraphs (Loop) run on it when the session has one
// intra-op thread. 8 MiB is a POSIX thread's usual default. koffi takes settings only before the first
// library loads in a thread, so every module that loads a library imports koffi from here.
import koffi from 'koffi';

const STACK = 8 * 1024 * 1024;
try {
  if (koffi.config().sync_stack_size < STACK) koffi.config({ ...koffi.config(), sync_stack_size: STACK });
} catch {
  // a library was loaded in this thread before (by code outside o2o): the default stands
}

export default koffi;

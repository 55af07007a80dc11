// Where each node of a model ran, read from onnxruntime's profile (session option `enableProfiling`): every
// node's kernel event carries `args.provider`. Profiling one run is enough, since onnxruntime fixes the
// placement when the session opens; `endProfiling()` writes the file and stops profiling, so later runs pay
// nothing. Types: placement.d.mts.
//
// A node on the CPU in a GPU session means copies between host and device around it in every step.
// onnxruntime places some nodes on the CPU on purpose (shape arithmetic on a few int64 values, the Loop
// operator itself), so the report lists them by name and lets the reader judge.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SUFFIX = '_kernel_time';

/** [{node, op, provider}] for every node that ran, in order of first appearance, from a profile's JSON text. */
export function parseProfile(json) {
  const seen = new Map();
  for (const e of JSON.parse(json)) {
    if (e.cat !== 'Node' || !e.args?.provider || !e.name?.endsWith(SUFFIX)) continue;
    const node = e.name.slice(0, -SUFFIX.length);
    // A Loop body's nodes repeat each iteration and may share names with the outer graph's.
    const key = `${node}\u0000${e.args.op_name}\u0000${e.args.provider}`;
    if (!seen.has(key)) seen.set(key, { node, op: e.args.op_name ?? '?', provider: e.args.provider });
  }
  return [...seen.values()];
}

/** A temporary profile prefix for openSession's `profilePrefix`, and the reader of what the session wrote. */
export function profileTarget() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'o2o-profile-'));
  return {
    prefix: path.join(dir, 'run'),
    discard: () => rmSync(dir, { recursive: true, force: true }),
    read(session) {
      try {
        session.endProfiling();
        const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
        if (files.length !== 1) throw new Error(`profile: expected one file in ${dir}, found ${files.length}`);
        return parseProfile(readFileSync(path.join(dir, files[0]), 'utf8'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** One line per (op, provider) of the nodes not on `epName`: "n3_Add, n7_Add (Add) on CPUExecutionProvider". */
export function describeFallbacks(placements, epName) {
  const groups = new Map();
  for (const p of placements) {
    if (p.provider === epName) continue;
    const k = `${p.op} on ${p.provider}`;
    groups.set(k, [...(groups.get(k) ?? []), p.node]);
  }
  return [...groups].map(([k, nodes]) => `${nodes.join(', ')} (${k.replace(' on ', ') on ')}`);
}

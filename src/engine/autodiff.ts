/**
 * Reverse-mode autodiff: appends to the graph the nodes that compute d loss / d wrt, by walking the forward
 * nodes backwards and applying each op's gradient rule. A tensor used by several nodes sums their
 * contributions. Only float tensors that depend on `wrt` carry gradients; ops with `grad: 'none'` stop them.
 */
import { isFloat } from './dtype.ts';
import type { Tensor } from './graph.ts';
import { add } from './ops/elementwise.ts';
import { zerosLike } from './ops/shape.ts';

/** Gradients of the scalar `loss` w.r.t. each of `wrt` (zeros where the loss does not depend on it). */
export function gradients(loss: Tensor, wrt: Tensor[]): Tensor[] {
  const g = loss.graph;
  if (loss.rank !== 0 || !isFloat(loss.dtype)) throw new Error(`gradients: loss must be a float scalar, got ${loss}`);
  const nodes = g.nodes.slice();

  // tensors that depend on wrt through differentiable ops
  const depends = new Set<Tensor>(wrt);
  for (const n of nodes) {
    if (n.op.grad === 'none' || !n.inputs.some((x) => depends.has(x))) continue;
    for (const o of n.outputs) if (isFloat(o.dtype)) depends.add(o);
  }

  const grads = new Map<Tensor, Tensor>([[loss, g.scalar(1, loss.dtype)]]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n.op.grad === 'none') continue;
    const dys = n.outputs.map((o) => grads.get(o) ?? null);
    if (dys.every((d) => d === null) || !n.inputs.some((x) => depends.has(x))) continue;
    const dxs = n.op.grad(n, dys);
    n.inputs.forEach((x, j) => {
      const dx = dxs[j];
      if (!dx || !depends.has(x)) return;
      const prev = grads.get(x);
      grads.set(x, prev ? add(prev, dx) : dx);
    });
  }
  return wrt.map((w) => grads.get(w) ?? zerosLike(w));
}

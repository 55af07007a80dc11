/**
 * Reverse-mode autodiff: appends to the graph the nodes that compute d loss / d wrt, by walking the forward
 * nodes backwards and applying each op's gradient rule. A tensor used by several nodes sums their
 * contributions. Only float tensors that depend on `wrt` carry gradients; ops with `grad: 'none'` stop them.
 */
import { isFloat } from './dtype.ts';
import type { Node, Tensor } from './graph.ts';
import { add } from './ops/elementwise.ts';
import { Gemm, type GemmAttrs, gemm } from './ops/matmul.ts';
import { ReshapeLike, reshape, reshapeLike, zerosLike } from './ops/shape.ts';

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
  const backwardStart = g.nodes.length;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n.op.grad === 'none') continue;
    const dys = n.outputs.map((o) => grads.get(o) ?? null);
    if (dys.every((d) => d === null) || !n.inputs.some((x) => depends.has(x))) continue;
    const dxs = g.within(`${n.op.name}.grad`, () => (n.op.grad as Exclude<typeof n.op.grad, 'none'>)(n, dys));
    n.inputs.forEach((x, j) => {
      const dx = dxs[j];
      if (!dx || !depends.has(x)) return;
      const prev = grads.get(x);
      if (!prev) return grads.set(x, dx);
      const backward = g.nodes.slice(backwardStart);
      grads.set(x, g.within('gradient-sum', () => intoGemm(dx, prev, backward) ?? intoGemm(prev, dx, backward) ?? add(prev, dx)));
    });
  }
  return wrt.map((w) => grads.get(w) ?? zerosLike(w));
}

/**
 * prod + other, formed inside the matrix product when `prod` is a Gemm without bias (as 2-D, or reshaped
 * back to the input's shape) that the backward pass built and nothing uses yet: `other` becomes its C input,
 * one pass over the tensor fewer (a tensor feeding several linears, e.g. attention's q, k and v
 * projections). Undefined when `prod` is not such a product.
 */
function intoGemm(prod: Tensor, other: Tensor, backward: Node[]): Tensor | undefined {
  const reshaped = prod.node?.op === ReshapeLike ? prod.node : undefined;
  const mat = reshaped ? reshaped.inputs[0] : prod;
  const gm = mat.node;
  const users = (t: Tensor) => backward.filter((n) => n.inputs.includes(t)).length;
  const n = mat.shape[1];
  if (gm?.op !== Gemm || gm.inputs.length !== 2 || !backward.includes(gm) || typeof n !== 'number' || other.dtype !== prod.dtype) return undefined;
  if (users(mat) !== (reshaped ? 1 : 0) || (reshaped && users(prod) !== 0)) return undefined;
  const c = other.rank === 2 ? other : reshape(other, [-1, n]);
  const sum = gemm(gm.inputs[0], gm.inputs[1], gm.attrs as GemmAttrs, c);
  return reshaped ? reshapeLike(sum, reshaped.inputs[1]) : sum;
}

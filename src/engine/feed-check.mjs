// Feeds checked against a session's declared inputs, shared by the runner's CPU cores (ort-core.mjs,
// ort-capi.mjs).

const fmt = (dtype, shape) => `${dtype}[${shape.join(', ')}]`;

/** Checks a fed tensor against the model's declared input; named dims must agree across inputs. */
export function checkFeed(meta, t, named, got) {
  if (!meta.isTensor) return;
  if (!Array.isArray(t.shape)) throw new Error(`run: input "${meta.name}": expected {dtype, shape, data}, got no shape`);
  const bad = (why) => new Error(`run: input "${meta.name}": expected ${fmt(meta.type, meta.shape)}, ${got} ${fmt(t.dtype, t.shape)}${why ? ` (${why})` : ''}`);
  if (t.dtype !== meta.type || t.shape.length !== meta.shape.length) throw bad('');
  meta.shape.forEach((d, i) => {
    if (typeof d === 'number' && d !== t.shape[i]) throw bad(`axis ${i}`);
    if (typeof d === 'string' && d !== '') {
      const seen = named.get(d);
      if (seen && seen.size !== t.shape[i]) throw bad(`dim "${d}" is ${t.shape[i]} here but ${seen.size} in input "${seen.input}"`);
      named.set(d, { size: t.shape[i], input: meta.name });
    }
  });
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.n !== n) throw bad(`${t.n} values for ${n} elements`);
}

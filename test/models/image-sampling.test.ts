import { describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { encodePng } from '../../src/ingest/images.ts';
import { decodeImage, PixelCache, preprocessImage, resizeNormalize, standardize } from '../../src/models/image.ts';
import { logSoftmaxT, sampleToken } from '../../src/models/sampling.ts';
import { Rng } from '../../src/util/rng.ts';

/** Oracle for area averaging: replicate every pixel k times per axis, then average exact blocks. */
function oracle(rgb: number[], H: number, W: number, size: number): Float32Array {
  const kx = size, ky = size; // W*size pixels per row after replication; each output averages W source units
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let oy = 0; oy < size; oy++) {
      for (let ox = 0; ox < size; ox++) {
        let s = 0;
        for (let ry = oy * H; ry < (oy + 1) * H; ry++) {
          for (let rx = ox * W; rx < (ox + 1) * W; rx++) {
            s += rgb[(Math.floor(ry / ky) * W + Math.floor(rx / kx)) * 3 + c];
          }
        }
        out[c * size * size + oy * size + ox] = s / (H * W) / 127.5 - 1;
      }
    }
  }
  return out;
}

describe('image preprocessing', () => {
  const rng = new Rng(3);
  const H = 5, W = 7;
  const rgb = Array.from({ length: H * W * 3 }, () => rng.int(256));

  it('area-averages PNG pixels to size×size in [-1, 1] for integer and fractional ratios', () => {
    const png = encodePng(rgb, H, W, 3);
    for (const size of [1, 2, 3, 4, 9]) {
      const got = resizeNormalize(decodeImage(png), size);
      const want = oracle(rgb, H, W, size);
      expect(got.length).toBe(3 * size * size);
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i], 5);
    }
  });

  it('standardizes each image to mean 0 and std 1 (a flat image to zeros), as the policy sees it', () => {
    const png = encodePng(rgb, H, W, 3);
    const got = preprocessImage(png, 4);
    const want = oracle(rgb, H, W, 4);
    const n = want.length, mean = want.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(want.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo((want[i] - mean) / std, 4);
    expect(got.reduce((a, b) => a + b, 0) / n).toBeCloseTo(0, 5);
    expect(Math.sqrt(got.reduce((a, b) => a + b * b, 0) / n)).toBeCloseTo(1, 5);
    expect(Array.from(standardize(new Float32Array(12).fill(0.7)))).toEqual(new Array(12).fill(0));
  });

  it('PixelCache gives what preprocessImage gives, decodes each bytes object once and stays under its budget', () => {
    const pngs = Array.from({ length: 5 }, (_, k) => encodePng(rgb.map((v) => (v + 40 * k) % 256), H, W, 3));
    const size = 4, perImage = 3 * size * size * 4;
    const cache = new PixelCache(size, 3 * perImage);
    const first = pngs.map((png) => cache.get(png));
    first.forEach((px, k) => expect(Array.from(px)).toEqual(Array.from(preprocessImage(pngs[k], size))));
    expect(cache.get(pngs[4])).toBe(first[4]); // a hit returns the stored array
    const again = cache.get(pngs[0]); // evicted (3 entries fit), decoded anew
    expect(again).not.toBe(first[0]);
    expect(Array.from(again)).toEqual(Array.from(first[0]));
    expect(Array.from(cache.get(null))).toEqual(new Array(3 * size * size).fill(0));
  });

  it('decodes JPEG and gives zeros for a missing image; rejects other bytes', () => {
    const rgba = new Uint8Array(16 * 16 * 4).fill(200);
    const jpg = jpeg.encode({ data: rgba, width: 16, height: 16 }, 95).data;
    const img = decodeImage(new Uint8Array(jpg));
    expect([img.width, img.height]).toEqual([16, 16]);
    const x = resizeNormalize(img, 4);
    for (const v of x) expect(Math.abs(v - (200 / 127.5 - 1))).toBeLessThan(0.03);
    expect(Array.from(preprocessImage(null, 2))).toEqual(new Array(12).fill(0));
    expect(() => decodeImage(new Uint8Array([1, 2, 3, 4]))).toThrow(/expected PNG or JPEG/);
  });
});

describe('temperature sampling', () => {
  const logits = Float32Array.from([0.5, -1, 2, 0, 1.5]);

  it('draws from softmax(logits / T) and reports log π_T of the drawn token', () => {
    const T = 0.7;
    const lp = logSoftmaxT(logits, 0, 5, T);
    expect(lp.reduce((s, v) => s + Math.exp(v), 0)).toBeCloseTo(1, 12);
    const rng = new Rng(11);
    const counts = new Array(5).fill(0);
    const N = 20000;
    for (let i = 0; i < N; i++) {
      const { token, logp } = sampleToken(logits, 0, 5, T, rng);
      expect(logp).toBe(lp[token]);
      counts[token]++;
    }
    for (let v = 0; v < 5; v++) {
      const p = Math.exp(lp[v]);
      expect(Math.abs(counts[v] / N - p)).toBeLessThan(4 * Math.sqrt(p * (1 - p) / N) + 1e-3);
    }
  });

  it('is a pure function of the seed and never draws a banned token', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 50 }, () => sampleToken(logits, 0, 5, 1, rng, [2]).token);
    };
    expect(draw(5)).toEqual(draw(5));
    expect(draw(5)).not.toEqual(draw(6));
    expect(draw(5)).not.toContain(2);
    expect(() => logSoftmaxT(logits, 0, 5, 0)).toThrow(/positive/);
  });
});

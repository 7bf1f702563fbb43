// Gradient clipping on every backend: sumSquares accumulated over several tensors into one scalar,
// then adamwStep with gradScale (each op alone is in the op suite, test/cases/optimizer.ts).
import { describe, expect, it } from 'vitest';
import { adamwStep, fromArray, sumSquares } from '../src/node.js';
import { adamwRef } from './backward-reference.js';
import { expectClose, OP_BACKENDS, rngFor, uniform, useBackends } from './harness.js';
import { TOLERANCE } from './tolerances.js';

const backends = useBackends(OP_BACKENDS);

describe.each(OP_BACKENDS)('on %s', (name) => {
  it('clips by the global gradient norm: sumSquares into one scalar, then adamwStep with gradScale', async (context) => {
    const backend = backends.get(name, context);
    const rng = rngFor('clip');
    const sizes = [17, 3, 300];
    const grads = sizes.map((n) => uniform(rng, n, -1, 1));
    const params = sizes.map((n) => uniform(rng, n));
    const total = fromArray(backend, [0], [1]);
    for (const [i, g] of grads.entries()) {
      expect(sumSquares(fromArray(backend, g, [sizes[i] as number]), { into: total })).toBe(total);
    }
    let squares = 0;
    for (const g of grads) for (const value of g) squares += value * value;
    const [norm2] = await total.toFloat32();
    expectClose(Float32Array.of(norm2 as number), [squares], TOLERANCE.sumSquares, {
      op: 'sumSquares (accumulated over 3 tensors)',
      backend: name,
      label: '',
      shape: [1],
    });
    const maxNorm = 1;
    const gradScale = Math.min(1, maxNorm / Math.sqrt(norm2 as number));
    expect(gradScale).toBeLessThan(1); // the gradients are large enough to be clipped
    const options = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradScale };
    for (const [i, g] of grads.entries()) {
      const n = sizes[i] as number;
      const param = fromArray(backend, params[i] as Float32Array, [n]);
      const m = fromArray(backend, new Float32Array(n), [n]);
      const v = fromArray(backend, new Float32Array(n), [n]);
      const mRef = new Float64Array(n);
      const vRef = new Float64Array(n);
      const p = Float64Array.from(params[i] as Float32Array);
      // Two steps, so that the scaled gradient does not cancel out of m̂ / √v̂ as it does at step 1.
      const g2 = g.map((x) => x * 0.5 + 0.1);
      adamwStep(param, fromArray(backend, g, [n]), m, v, { ...options, step: 1 });
      adamwStep(param, fromArray(backend, g2, [n]), m, v, { ...options, step: 2, gradScale: 1 });
      adamwRef(p, g, mRef, vRef, 1, options);
      adamwRef(p, g2, mRef, vRef, 2, { ...options, gradScale: 1 });
      expectClose(await param.toFloat32(), p, TOLERANCE.adamw, {
        op: 'adamwStep (clipped)',
        backend: name,
        label: `tensor ${i}`,
        shape: [n],
      });
      expectClose(await m.toFloat32(), mRef, TOLERANCE.adamw, {
        op: 'adamwStep m',
        backend: name,
        label: `${i}`,
        shape: [n],
      });
    }
  });
});

// attentionBackward beyond the op suite's cases (test/cases/backward.ts): its float64 analytic
// gradient against central finite differences, its forward twin, and its shape checks.
import { describe, expect, it } from 'vitest';
import { attention, attentionBackward, fromArray, KernelError } from '../src/node.js';
import {
  type AttentionShape,
  attentionBackwardInputs,
  attentionForwardRef,
  attentionGradientsRef,
} from './backward-reference.js';
import { ATTENTION_BACKWARD_SHAPES } from './cases/backward.js';
import { expectClose, OP_BACKENDS, rngFor, useBackends } from './harness.js';
import { TOLERANCE } from './tolerances.js';

type F64 = Float64Array;

const inputs = (c: AttentionShape) => attentionBackwardInputs(rngFor(`attentionBackward ${c.label}`), c);

describe('float64 reference', () => {
  it('matches central finite differences', () => {
    const c = ATTENTION_BACKWARD_SHAPES[0] as AttentionShape;
    const { q, k, v, dOut } = inputs(c);
    const analytic = attentionGradientsRef(c, q, k, v, dOut);
    const loss = (qq: F64, kk: F64, vv: F64) =>
      attentionForwardRef(c, qq, kk, vv).reduce((a, x, i) => a + x * (dOut[i] as number), 0);
    const h = 1e-6;
    for (const [name, x, grad] of [
      ['q', q, analytic.dQ],
      ['k', k, analytic.dK],
      ['v', v, analytic.dV],
    ] as const) {
      for (let i = 0; i < x.length; i += 7) {
        const plus = Float64Array.from(x);
        const minus = Float64Array.from(x);
        plus[i] = (plus[i] as number) + h;
        minus[i] = (minus[i] as number) - h;
        const args = (y: F64): [F64, F64, F64] =>
          name === 'q'
            ? [y, Float64Array.from(k), Float64Array.from(v)]
            : name === 'k'
              ? [Float64Array.from(q), y, Float64Array.from(v)]
              : [Float64Array.from(q), Float64Array.from(k), y];
        const numeric = (loss(...args(plus)) - loss(...args(minus))) / (2 * h);
        // Central differences in float64 with h = 1e-6 are accurate to ~1e-8 here.
        expect(Math.abs(numeric - (grad[i] as number)), `d${name}[${i}]`).toBeLessThan(1e-6);
      }
    }
  });
});

const backends = useBackends(OP_BACKENDS);

describe.each(OP_BACKENDS)('attentionBackward on %s', (name) => {
  it('its forward twin is the cached attention op with the batch as its own cache', async (context) => {
    const backend = backends.get(name, context);
    const c = ATTENTION_BACKWARD_SHAPES[0] as AttentionShape;
    const { q, k, v } = inputs(c);
    const out = attention(
      fromArray(backend, q, [c.B, c.T, c.H, c.D]),
      fromArray(backend, k, [c.B, c.T, c.Hkv, c.D]),
      fromArray(backend, v, [c.B, c.T, c.Hkv, c.D]),
      { startPos: 0 },
    );
    expectClose(await out.toFloat32(), attentionForwardRef(c, q, k, v), TOLERANCE.attention, {
      op: 'attention',
      backend: name,
      label: c.label,
      shape: [c.B, c.T, c.H, c.D],
    });
  });

  it('rejects mismatched shapes', (context) => {
    const backend = backends.get(name, context);
    const t = (shape: number[]) => fromArray(backend, new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
    expect(() => attentionBackward(t([1, 2, 4, 8]), t([1, 2, 3, 8]), t([1, 2, 3, 8]), t([1, 2, 4, 8]))).toThrow(
      KernelError,
    );
    expect(() => attentionBackward(t([1, 2, 4, 8]), t([1, 2, 2, 8]), t([1, 2, 2, 8]), t([1, 3, 4, 8]))).toThrow(
      /dOut has shape \[1, 3, 4, 8\], expected \[1, 2, 4, 8\]/,
    );
  });
});

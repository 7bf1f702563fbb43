// attentionBackward (causal GQA over a whole sequence, as in training) on every backend against a
// float64 analytic gradient, which is itself checked against central finite differences.
import { describe, expect, it } from 'vitest';
import { attention, attentionBackward, fromArray, KernelError } from '../src/node.js';
import { expectClose, OP_BACKENDS, rngFor, uniform, useBackends } from './harness.js';
import { TOLERANCE } from './tolerances.js';

interface Case {
  label: string;
  B: number;
  T: number;
  H: number;
  Hkv: number;
  D: number;
}

const CASES: Case[] = [
  { label: 'GQA 2', B: 2, T: 5, H: 4, Hkv: 2, D: 8 },
  { label: 'GQA 1, odd sizes', B: 1, T: 3, H: 3, Hkv: 3, D: 3 },
  { label: 'GQA 4, more than one 64-block', B: 1, T: 70, H: 4, Hkv: 1, D: 17 },
];

type F64 = Float64Array;

/** Float64 forward: out[b,t,h] = Σ_{s ≤ t} softmax(q·k_s / sqrt(D)) v_s, kv head h / (H / Hkv). */
function forward(c: Case, q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>): F64 {
  const { B, T, H, Hkv, D } = c;
  const out = new Float64Array(B * T * H * D);
  const scale = 1 / Math.sqrt(D);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / Hkv));
        const qi = ((b * T + t) * H + h) * D;
        const scores = Array.from({ length: t + 1 }, (_, s) => {
          let dot = 0;
          for (let e = 0; e < D; e++) dot += (q[qi + e] as number) * (k[((b * T + s) * Hkv + g) * D + e] as number);
          return dot * scale;
        });
        const max = Math.max(...scores);
        const exps = scores.map((x) => Math.exp(x - max));
        const sum = exps.reduce((a, x) => a + x, 0);
        exps.forEach((p, s) => {
          for (let e = 0; e < D; e++)
            out[qi + e] = (out[qi + e] as number) + (p / sum) * (v[((b * T + s) * Hkv + g) * D + e] as number);
        });
      }
  return out;
}

/** Float64 analytic gradients of Σ dOut ⊙ forward. */
function gradients(c: Case, q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dOut: ArrayLike<number>) {
  const { B, T, H, Hkv, D } = c;
  const dQ = new Float64Array(q.length);
  const dK = new Float64Array(k.length);
  const dV = new Float64Array(v.length);
  const scale = 1 / Math.sqrt(D);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / Hkv));
        const qi = ((b * T + t) * H + h) * D;
        const kv = (s: number) => ((b * T + s) * Hkv + g) * D;
        const dotQ = (arr: ArrayLike<number>, s: number, other: ArrayLike<number>) => {
          let sum = 0;
          for (let e = 0; e < D; e++) sum += (other[qi + e] as number) * (arr[kv(s) + e] as number);
          return sum;
        };
        const scores = Array.from({ length: t + 1 }, (_, s) => dotQ(k, s, q) * scale);
        const max = Math.max(...scores);
        const exps = scores.map((x) => Math.exp(x - max));
        const sum = exps.reduce((a, x) => a + x, 0);
        const probs = exps.map((x) => x / sum);
        const dProbs = probs.map((_, s) => dotQ(v, s, dOut));
        const dSum = probs.reduce((a, p, s) => a + p * (dProbs[s] as number), 0);
        probs.forEach((p, s) => {
          const dScore = p * ((dProbs[s] as number) - dSum) * scale;
          for (let e = 0; e < D; e++) {
            dQ[qi + e] = (dQ[qi + e] as number) + dScore * (k[kv(s) + e] as number);
            dK[kv(s) + e] = (dK[kv(s) + e] as number) + dScore * (q[qi + e] as number);
            dV[kv(s) + e] = (dV[kv(s) + e] as number) + p * (dOut[qi + e] as number);
          }
        });
      }
  return { dQ, dK, dV };
}

function inputs(c: Case) {
  const rng = rngFor(`attentionBackward ${c.label}`);
  return {
    q: uniform(rng, c.B * c.T * c.H * c.D),
    k: uniform(rng, c.B * c.T * c.Hkv * c.D),
    v: uniform(rng, c.B * c.T * c.Hkv * c.D),
    dOut: uniform(rng, c.B * c.T * c.H * c.D),
  };
}

describe('float64 reference', () => {
  it('matches central finite differences', () => {
    const c = CASES[0] as Case;
    const { q, k, v, dOut } = inputs(c);
    const analytic = gradients(c, q, k, v, dOut);
    const loss = (qq: F64, kk: F64, vv: F64) =>
      forward(c, qq, kk, vv).reduce((a, x, i) => a + x * (dOut[i] as number), 0);
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
  it.for(CASES.map((c) => [c.label, c] as const))('%s', async ([, c], context) => {
    const backend = backends.get(name, context);
    const { q, k, v, dOut } = inputs(c);
    const expected = gradients(c, q, k, v, dOut);
    const grads = attentionBackward(
      fromArray(backend, q, [c.B, c.T, c.H, c.D]),
      fromArray(backend, k, [c.B, c.T, c.Hkv, c.D]),
      fromArray(backend, v, [c.B, c.T, c.Hkv, c.D]),
      fromArray(backend, dOut, [c.B, c.T, c.H, c.D]),
    );
    for (const [key, shape] of [
      ['dQ', [c.B, c.T, c.H, c.D]],
      ['dK', [c.B, c.T, c.Hkv, c.D]],
      ['dV', [c.B, c.T, c.Hkv, c.D]],
    ] as const) {
      expectClose(await grads[key].toFloat32(), expected[key], TOLERANCE.attentionBackward, {
        op: `attentionBackward ${key}`,
        backend: name,
        label: c.label,
        shape,
      });
    }
  });

  it('its forward twin is the cached attention op with the batch as its own cache', async (context) => {
    const backend = backends.get(name, context);
    const c = CASES[0] as Case;
    const { q, k, v } = inputs(c);
    const out = attention(
      fromArray(backend, q, [c.B, c.T, c.H, c.D]),
      fromArray(backend, k, [c.B, c.T, c.Hkv, c.D]),
      fromArray(backend, v, [c.B, c.T, c.Hkv, c.D]),
      { startPos: 0 },
    );
    expectClose(await out.toFloat32(), forward(c, q, k, v), TOLERANCE.attention, {
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

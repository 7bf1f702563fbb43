// Cases of the backward ops against float64 analytic gradients (test/backward-reference.ts, itself
// checked against finite differences in backward-gradcheck.test.ts and attention-backward.test.ts).
// rope's inverse (its backward) is among rope's cases.
import { expect } from 'vitest';
import {
  attentionBackward,
  crossEntropy,
  embeddingBackward,
  matmulGradInput,
  matmulGradWeight,
  rmsNormBackward,
  swigluBackward,
} from '../../src/node.js';
import {
  type AttentionShape,
  attentionBackwardInputs,
  attentionGradientsRef,
  crossEntropyRef,
  embeddingBackwardRef,
  matmulGradInputRef,
  matmulGradWeightRef,
  rmsNormBackwardRef,
  swigluBackwardRef,
} from '../backward-reference.js';
import { randomInts, uniform } from '../harness.js';
import type { OpCase } from '../op-case.js';
import { TOLERANCE } from '../tolerances.js';

const MATMUL_SHAPES = [
  { M: 1, N: 1, K: 1 },
  { M: 3, N: 17, K: 5 },
  { M: 17, N: 3, K: 33 },
  { M: 16, N: 16, K: 16 },
  { M: 12, N: 48, K: 40 },
  // Past one 64 × 64 WebGPU output tile in each direction, odd sizes.
  { M: 70, N: 131, K: 67 },
  { M: 130, N: 19, K: 65 },
];

export const MATMUL_GRAD_INPUT_CASES = MATMUL_SHAPES.map(
  ({ M, N, K }): OpCase<'matmulGradInput'> => ({
    label: `M=${M} N=${N} K=${K}`,
    run: ({ rng, tensor }) => {
      const dY = uniform(rng, M * N);
      const w = uniform(rng, N * K);
      const dX = matmulGradInput(tensor(dY, [M, N]), tensor(w, [N, K]));
      const expected = matmulGradInputRef(dY, w, M, N, K);
      return [{ output: 'dX', actual: dX, shape: [M, K], expected, tolerance: TOLERANCE.matmulGrad(N) }];
    },
  }),
);

/** dW, then accumulated into an existing gradient, twice. */
export const MATMUL_GRAD_WEIGHT_CASES = MATMUL_SHAPES.map(
  ({ M, N, K }): OpCase<'matmulGradWeight'> => ({
    label: `M=${M} N=${N} K=${K}`,
    run: ({ rng, tensor }) => {
      const dY = uniform(rng, M * N);
      const x = uniform(rng, M * K);
      const initial = uniform(rng, N * K);
      const dYT = tensor(dY, [M, N]);
      const xT = tensor(x, [M, K]);
      const dW = matmulGradWeight(dYT, xT);
      const into = tensor(initial, [N, K]);
      expect(matmulGradWeight(dYT, xT, { into })).toBe(into);
      matmulGradWeight(dYT, xT, { into });
      const once = matmulGradWeightRef(dY, x, M, N, K);
      const twice = matmulGradWeightRef(dY, x, M, N, K, matmulGradWeightRef(dY, x, M, N, K, initial));
      return [
        { output: 'dW', actual: dW, shape: [N, K], expected: once, tolerance: TOLERANCE.matmulGrad(M) },
        {
          output: 'dW (accumulate x2)',
          actual: into,
          shape: [N, K],
          expected: twice,
          tolerance: TOLERANCE.matmulGrad(2 * M),
        },
      ];
    },
  }),
);

/** Rows of logits in ±spread; with R > 2, row 0 is padding (-1) and row 2 out of range (V): both ignored. */
export const CROSS_ENTROPY_CASES = [
  { R: 1, V: 1, spread: 1 },
  { R: 3, V: 17, spread: 3 },
  { R: 17, V: 100, spread: 3 },
  { R: 5, V: 1003, spread: 3 },
  { R: 4, V: 33, spread: 80 },
].map(
  ({ R, V, spread }): OpCase<'crossEntropy'> => ({
    label: `R=${R} V=${V} logits ±${spread}`,
    run: ({ rng, tensor }) => {
      const logits = uniform(rng, R * V, -spread, spread);
      const targets = randomInts(rng, R, 0, V);
      if (R > 2) {
        targets[0] = -1;
        targets[2] = V;
      }
      const counted = Array.from(targets).filter((t) => t >= 0 && t < V).length;
      const scale = 1 / Math.max(1, counted);
      const { loss, dLogits } = crossEntropy(tensor(logits, [R, V]), tensor(targets, [R], 'i32'), { scale });
      const ref = crossEntropyRef(logits, targets, R, V, scale);
      return [
        { output: 'loss', actual: loss, shape: [R], expected: ref.loss, tolerance: TOLERANCE.crossEntropyLoss },
        {
          output: 'dLogits',
          actual: dLogits,
          shape: [R, V],
          expected: ref.dLogits,
          tolerance: TOLERANCE.crossEntropyGrad,
        },
      ];
    },
  }),
);

/** dX and dWeight, then dWeight accumulated into an existing gradient. */
export const RMS_NORM_BACKWARD_CASES = [
  { R: 1, D: 1 },
  { R: 3, D: 17 },
  { R: 17, D: 48 },
  { R: 2, D: 1003 },
  { R: 100, D: 3 },
].map(
  ({ R, D }): OpCase<'rmsNormBackward'> => ({
    label: `R=${R} D=${D}`,
    run: ({ rng, tensor }) => {
      const eps = 1e-5;
      const x = uniform(rng, R * D);
      const w = uniform(rng, D, -2, 2);
      const dY = uniform(rng, R * D);
      const initial = uniform(rng, D);
      const inputs = [tensor(x, [R, D]), tensor(w, [D]), tensor(dY, [R, D])] as const;
      const { dX, dWeight } = rmsNormBackward(...inputs, eps);
      const into = tensor(initial, [D]);
      expect(rmsNormBackward(...inputs, eps, { into }).dWeight).toBe(into);
      const ref = rmsNormBackwardRef(x, w, dY, R, D, eps);
      const accumulated = rmsNormBackwardRef(x, w, dY, R, D, eps, initial).dWeight;
      const tolerance = TOLERANCE.rmsNormBackward;
      return [
        { output: 'dX', actual: dX, shape: [R, D], expected: ref.dX, tolerance },
        { output: 'dWeight', actual: dWeight, shape: [D], expected: ref.dWeight, tolerance },
        { output: 'dWeight (accumulate)', actual: into, shape: [D], expected: accumulated, tolerance },
      ];
    },
  }),
);

export const SWIGLU_BACKWARD_CASES = [[1], [3], [17], [3, 1003], [2, 3, 17]].map(
  (shape): OpCase<'swigluBackward'> => ({
    label: `[${shape.join(', ')}], a in ±8 (and ±100 at the ends)`,
    run: ({ rng, tensor }) => {
      const n = shape.reduce((a, b) => a * b);
      const a = uniform(rng, n, -8, 8);
      if (n > 2) {
        a[0] = -100;
        a[n - 1] = 100;
      }
      const b = uniform(rng, n, -2, 2);
      const dY = uniform(rng, n);
      const { dA, dB } = swigluBackward(tensor(a, shape), tensor(b, shape), tensor(dY, shape));
      const ref = swigluBackwardRef(a, b, dY);
      return [
        { output: 'dA', actual: dA, shape, expected: ref.dA, tolerance: TOLERANCE.swigluBackward },
        { output: 'dB', actual: dB, shape, expected: ref.dB, tolerance: TOLERANCE.swigluBackward },
      ];
    },
  }),
);

/** With T > 3: a padding id (-1), an out-of-range id (V) and a repeat; then accumulated into an existing gradient. */
export const EMBEDDING_BACKWARD_CASES = [
  { T: 1, V: 1, D: 1 },
  { T: 12, V: 5, D: 3 },
  { T: 7, V: 17, D: 48 },
  { T: 12, V: 65, D: 17 },
].map(
  ({ T, V, D }): OpCase<'embeddingBackward'> => ({
    label: `T=${T} V=${V} D=${D}`,
    run: ({ rng, tensor }) => {
      const ids = randomInts(rng, T, 0, V);
      if (T > 3) {
        ids[1] = -1;
        ids[3] = V;
        ids[T - 1] = ids[0] as number;
      }
      const dY = uniform(rng, T * D);
      const initial = uniform(rng, V * D);
      const idsT = tensor(ids, [T], 'i32');
      const dYT = tensor(dY, [T, D]);
      const dTable = embeddingBackward(idsT, dYT, V);
      const into = tensor(initial, [V, D]);
      embeddingBackward(idsT, dYT, V, { into });
      const tolerance = TOLERANCE.embeddingBackward;
      return [
        { output: 'dTable', actual: dTable, shape: [V, D], expected: embeddingBackwardRef(ids, dY, V, D), tolerance },
        {
          output: 'dTable (accumulate)',
          actual: into,
          shape: [V, D],
          expected: embeddingBackwardRef(ids, dY, V, D, initial),
          tolerance,
        },
      ];
    },
  }),
);

export const ATTENTION_BACKWARD_SHAPES: AttentionShape[] = [
  { label: 'GQA 2', B: 2, T: 5, H: 4, Hkv: 2, D: 8 },
  { label: 'GQA 1, odd sizes', B: 1, T: 3, H: 3, Hkv: 3, D: 3 },
  { label: 'GQA 4, more than one 64-block', B: 1, T: 70, H: 4, Hkv: 1, D: 17 },
];

export const ATTENTION_BACKWARD_CASES = ATTENTION_BACKWARD_SHAPES.map(
  (c): OpCase<'attentionBackward'> => ({
    label: `${c.label}: B=${c.B} T=${c.T} H=${c.H} Hkv=${c.Hkv} D=${c.D}`,
    run: ({ rng, tensor }) => {
      const { q, k, v, dOut } = attentionBackwardInputs(rng, c);
      const qShape = [c.B, c.T, c.H, c.D];
      const kvShape = [c.B, c.T, c.Hkv, c.D];
      const grads = attentionBackward(tensor(q, qShape), tensor(k, kvShape), tensor(v, kvShape), tensor(dOut, qShape));
      const expected = attentionGradientsRef(c, q, k, v, dOut);
      const tolerance = TOLERANCE.attentionBackward;
      return [
        { output: 'dQ', actual: grads.dQ, shape: qShape, expected: expected.dQ, tolerance },
        { output: 'dK', actual: grads.dK, shape: kvShape, expected: expected.dK, tolerance },
        { output: 'dV', actual: grads.dV, shape: kvShape, expected: expected.dV, tolerance },
      ];
    },
  }),
);

// Cases of adamwStep (over several steps) and sumSquares (optimizer.test.ts has the two together:
// clipping by the global gradient norm).
import { adamwStep, sumSquares } from '../../src/node.js';
import { type AdamWRefOptions, adamwRef } from '../backward-reference.js';
import { uniform } from '../harness.js';
import type { OpCase } from '../op-case.js';
import { TOLERANCE } from '../tolerances.js';

const ADAMW_SETTINGS: (AdamWRefOptions & { n: number; label: string })[] = [
  { label: 'AdamW', n: 17, lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradScale: 1 },
  { label: 'Adam (no decay)', n: 1, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradScale: 1 },
  {
    label: 'AdamW, clipped',
    n: 1003,
    lr: 3e-3,
    beta1: 0.8,
    beta2: 0.99,
    eps: 1e-6,
    weightDecay: 0.01,
    gradScale: 0.25,
  },
];

export const ADAMW_STEP_CASES = ADAMW_SETTINGS.map(
  (c): OpCase<'adamwStep'> => ({
    label: `${c.label}, n=${c.n}, 5 steps`,
    run: ({ rng, tensor }) => {
      const p0 = uniform(rng, c.n);
      const param = tensor(p0, [c.n]);
      const m = tensor(new Float32Array(c.n), [c.n]);
      const v = tensor(new Float32Array(c.n), [c.n]);
      const p = Float64Array.from(p0);
      const mRef = new Float64Array(c.n);
      const vRef = new Float64Array(c.n);
      for (let step = 1; step <= 5; step++) {
        // Gradients of mixed magnitudes, including tiny ones (where eps matters) and exact zeros.
        const g = uniform(rng, c.n, -2, 2).map((x, i) => (i % 7 === 3 ? x * 1e-6 : i % 11 === 5 ? 0 : x));
        adamwStep(param, tensor(g, [c.n]), m, v, { ...c, step });
        adamwRef(p, g, mRef, vRef, step, c);
      }
      return [
        { output: 'param', actual: param, shape: [c.n], expected: p, tolerance: TOLERANCE.adamw },
        { output: 'm', actual: m, shape: [c.n], expected: mRef, tolerance: TOLERANCE.adamw },
        { output: 'v', actual: v, shape: [c.n], expected: vRef, tolerance: TOLERANCE.adamw },
      ];
    },
  }),
);

export const SUM_SQUARES_CASES = [1, 3, 17, 4097, 100003].map(
  (n): OpCase<'sumSquares'> => ({
    label: `n=${n}`,
    run: ({ rng, tensor }) => {
      const x = uniform(rng, n, -3, 3);
      let expected = 0;
      for (const value of x) expected += value * value;
      return [
        {
          output: 'out',
          actual: sumSquares(tensor(x, [n])),
          shape: [1],
          expected: [expected],
          tolerance: TOLERANCE.sumSquares,
        },
      ];
    },
  }),
);

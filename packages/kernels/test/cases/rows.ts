// Cases of softmax, logSoftmaxGather and argmax, including rows of large magnitude (which overflow
// or underflow exp without the max subtracted) and argmax ties.
import { expect } from 'vitest';
import { argmax, logSoftmaxGather, softmax } from '../../src/node.js';
import { randomInts, uniform } from '../harness.js';
import type { OpCase } from '../op-case.js';
import { argmaxRef, logSoftmaxGatherRef, softmaxRef } from '../reference.js';
import { TOLERANCE } from '../tolerances.js';

interface RowsShape {
  rows: number;
  cols: number;
  /** 'normal': uniform ±4. 'large': rows alternately in [70, 90), [-90, -70) and [-80, 80). */
  values: 'normal' | 'large';
}

const ROWS_SHAPES: RowsShape[] = [
  { rows: 1, cols: 1, values: 'normal' },
  { rows: 3, cols: 17, values: 'normal' },
  { rows: 17, cols: 100, values: 'normal' },
  { rows: 2, cols: 1003, values: 'normal' },
  { rows: 1, cols: 4099, values: 'normal' },
  { rows: 3, cols: 3, values: 'large' },
  { rows: 3, cols: 1003, values: 'large' },
  { rows: 6, cols: 257, values: 'large' },
];

function rowsOf(rng: () => number, c: RowsShape): Float32Array {
  if (c.values === 'normal') return uniform(rng, c.rows * c.cols, -4, 4);
  const x = new Float32Array(c.rows * c.cols);
  const ranges = [
    [70, 90],
    [-90, -70],
    [-80, 80],
  ] as const;
  for (let r = 0; r < c.rows; r++) {
    const [lo, hi] = ranges[r % 3] as readonly [number, number];
    x.set(uniform(rng, c.cols, lo, hi), r * c.cols);
  }
  return x;
}

const label = (c: RowsShape) => `${c.rows} x ${c.cols}, ${c.values} values`;

export const SOFTMAX_CASES = ROWS_SHAPES.map(
  (c): OpCase<'softmax'> => ({
    label: label(c),
    run: ({ rng, tensor }) => {
      const x = rowsOf(rng, c);
      const y = softmax(tensor(x, [c.rows, c.cols]));
      const expected = softmaxRef(x, c.rows, c.cols);
      return [{ output: 'y', actual: y, shape: [c.rows, c.cols], expected, tolerance: TOLERANCE.softmax }];
    },
  }),
);

export const LOG_SOFTMAX_GATHER_CASES = ROWS_SHAPES.map(
  (c): OpCase<'logSoftmaxGather'> => ({
    label: label(c),
    run: ({ rng, tensor }) => {
      const x = rowsOf(rng, c);
      // Random ids, with the first and last column and a padding id (-1, which gives exactly 0).
      const ids = randomInts(rng, c.rows, 0, c.cols);
      ids[0] = c.cols - 1;
      if (c.rows > 1) ids[1] = -1;
      if (c.rows > 2) ids[2] = 0;
      const y = logSoftmaxGather(tensor(x, [c.rows, c.cols]), tensor(ids, [c.rows], 'i32'));
      const expected = logSoftmaxGatherRef(x, ids, c.rows, c.cols);
      const tolerance = TOLERANCE.logSoftmaxGather;
      return [{ output: 'y', actual: y, shape: [c.rows], expected, tolerance, exactAt: c.rows > 1 ? [1] : [] }];
    },
  }),
);

/**
 * One row per pattern of positions holding the maximum 10 (no ties, first, last, both, across
 * 64- and 256-wide blocks, adjacent), then a row all 7, one all -Inf (both give 0) and one all negative.
 */
function argmaxTiesCase(cols: number): OpCase<'argmax'> {
  const last = cols - 1;
  const patterns: number[][] = [
    [],
    [0],
    [last],
    [0, last],
    [Math.floor(cols / 2), last],
    [Math.min(255, last), Math.min(256, last)],
    [Math.min(63, last), Math.min(64, last), Math.min(200, last)],
    [Math.max(0, last - 1), last],
  ];
  const rows = patterns.length + 3;
  return {
    label: `the first of tied maxima, ${cols} columns`,
    run: ({ rng, tensor }) => {
      // Entries other than the maxima are random in [-5, 5).
      const x = uniform(rng, rows * cols, -5, 5);
      patterns.forEach((positions, r) => {
        for (const p of positions) x[r * cols + p] = 10;
      });
      x.fill(7, patterns.length * cols, (patterns.length + 1) * cols); // all equal: 0
      x.fill(Number.NEGATIVE_INFINITY, (patterns.length + 1) * cols, (patterns.length + 2) * cols); // all -Inf: 0
      x.set(uniform(rng, cols, -10, -5), (patterns.length + 2) * cols); // all negative
      const expected = argmaxRef(x, rows, cols);
      patterns.forEach((positions, r) => {
        if (positions.length > 0) expect(expected[r]).toBe(Math.min(...positions)); // the reference itself
      });
      const y = argmax(tensor(x, [rows, cols]));
      return [{ output: 'y', actual: y, shape: [rows], dtype: 'i32', expected, tolerance: 'exact' }];
    },
  };
}

export const ARGMAX_CASES: OpCase<'argmax'>[] = [
  ...ROWS_SHAPES.map(
    (c): OpCase<'argmax'> => ({
      label: label(c),
      run: ({ rng, tensor }) => {
        const x = rowsOf(rng, c);
        const y = argmax(tensor(x, [c.rows, c.cols]));
        const expected = argmaxRef(x, c.rows, c.cols);
        return [{ output: 'y', actual: y, shape: [c.rows], dtype: 'i32', expected, tolerance: 'exact' }];
      },
    }),
  ),
  ...[1, 3, 17, 257, 1003, 4099].map(argmaxTiesCase),
];

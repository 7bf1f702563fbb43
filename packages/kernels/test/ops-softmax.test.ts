// softmax, logSoftmaxGather and argmax on every backend, including rows of large magnitude (which
// overflow or underflow exp without the max subtracted) and argmax ties.
import { describe, expect, it } from 'vitest';
import { argmax, fromArray, logSoftmaxGather, softmax } from '../src/node.js';
import { expectClose, expectExact, OP_BACKENDS, randomInts, rngFor, uniform, useBackends } from './harness.js';
import { argmaxRef, logSoftmaxGatherRef, softmaxRef } from './reference.js';
import { TOLERANCE } from './tolerances.js';

const backends = useBackends(OP_BACKENDS);

interface RowsCase {
  rows: number;
  cols: number;
  /** 'normal': uniform ±4. 'large': rows alternately in [70, 90), [-90, -70) and [-80, 80). */
  values: 'normal' | 'large';
}

const CASES: RowsCase[] = [
  { rows: 1, cols: 1, values: 'normal' },
  { rows: 3, cols: 17, values: 'normal' },
  { rows: 17, cols: 100, values: 'normal' },
  { rows: 2, cols: 1003, values: 'normal' },
  { rows: 1, cols: 4099, values: 'normal' },
  { rows: 3, cols: 3, values: 'large' },
  { rows: 3, cols: 1003, values: 'large' },
  { rows: 6, cols: 257, values: 'large' },
];

function rowsOf(c: RowsCase): Float32Array {
  const rng = rngFor(`rows ${JSON.stringify(c)}`);
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

const label = (c: RowsCase) => `${c.rows} x ${c.cols}, ${c.values} values`;

describe.each(OP_BACKENDS)('on %s', (name) => {
  it.for(CASES)('softmax $rows x $cols, $values values', async (c, context) => {
    const backend = backends.get(name, context);
    const x = rowsOf(c);
    const y = softmax(fromArray(backend, x, [c.rows, c.cols]));
    expect(y.shape).toEqual([c.rows, c.cols]);
    expectClose(await y.toFloat32(), softmaxRef(x, c.rows, c.cols), TOLERANCE.softmax, {
      op: 'softmax',
      backend: name,
      label: label(c),
      shape: [c.rows, c.cols],
    });
  });

  it.for(CASES)('logSoftmaxGather $rows x $cols, $values values', async (c, context) => {
    const backend = backends.get(name, context);
    const x = rowsOf(c);
    // Random ids, with the first and last column and a padding id (-1, which gives 0).
    const ids = randomInts(rngFor(`ids ${label(c)}`), c.rows, 0, c.cols);
    ids[0] = c.cols - 1;
    if (c.rows > 1) ids[1] = -1;
    if (c.rows > 2) ids[2] = 0;
    const y = logSoftmaxGather(fromArray(backend, x, [c.rows, c.cols]), fromArray(backend, ids, [c.rows], 'i32'));
    expect(y.shape).toEqual([c.rows]);
    const got = await y.toFloat32();
    expectClose(got, logSoftmaxGatherRef(x, ids, c.rows, c.cols), TOLERANCE.logSoftmaxGather, {
      op: 'logSoftmaxGather',
      backend: name,
      label: `${label(c)}, ids [${Array.from(ids).join(', ')}]`,
      shape: [c.rows],
    });
    if (c.rows > 1) expect(got[1]).toBe(0);
  });

  it.for(CASES)('argmax $rows x $cols, $values values', async (c, context) => {
    const backend = backends.get(name, context);
    const x = rowsOf(c);
    const y = argmax(fromArray(backend, x, [c.rows, c.cols]));
    expect(y.shape).toEqual([c.rows]);
    expect(y.dtype).toBe('i32');
    expectExact(await y.toFloat32(), argmaxRef(x, c.rows, c.cols), {
      op: 'argmax',
      backend: name,
      label: label(c),
      shape: [c.rows],
    });
  });

  it.for([{ cols: 1 }, { cols: 3 }, { cols: 17 }, { cols: 257 }, { cols: 1003 }, { cols: 4099 }])(
    'argmax returns the first of tied maxima ($cols columns)',
    async ({ cols }, context) => {
      const backend = backends.get(name, context);
      // One row per pattern: [positions holding the maximum value 10]; other entries are random in [-5, 5).
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
      const x = uniform(rngFor(`ties ${cols}`), rows * cols, -5, 5);
      patterns.forEach((positions, r) => {
        for (const p of positions) x[r * cols + p] = 10;
      });
      x.fill(7, patterns.length * cols, (patterns.length + 1) * cols); // all equal: 0
      x.fill(Number.NEGATIVE_INFINITY, (patterns.length + 1) * cols, (patterns.length + 2) * cols); // all -Inf: 0
      x.set(uniform(rngFor(`negative ${cols}`), cols, -10, -5), (patterns.length + 2) * cols); // all negative
      const expected = argmaxRef(x, rows, cols);
      patterns.forEach((positions, r) => {
        if (positions.length > 0) expect(expected[r]).toBe(Math.min(...positions)); // the reference itself
      });
      const y = argmax(fromArray(backend, x, [rows, cols]));
      expectExact(await y.toFloat32(), expected, {
        op: 'argmax',
        backend: name,
        label: `ties at ${patterns.map((p) => `[${p.join(', ')}]`).join(' ')}, all 7, all -Inf, all negative`,
        shape: [rows],
      });
    },
  );
});

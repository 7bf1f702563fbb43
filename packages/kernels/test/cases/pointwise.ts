// Cases of rmsNorm, rope (forward and inverse), swiglu and add.
import { expect } from 'vitest';
import { add, cacheRows, rmsNorm, rope, ropeTable, swiglu } from '../../src/node.js';
import { uniform } from '../harness.js';
import type { OpCase } from '../op-case.js';
import { addRef, rescaledFrequencies, rmsNormRef, ropeRef, standardFrequencies, swigluRef } from '../reference.js';
import { TOLERANCE } from '../tolerances.js';

interface NormShape {
  rows: number;
  dim: number;
  eps: number;
  /** Inputs uniform in [-scale, scale). */
  scale: number;
}

const NORM_SHAPES: NormShape[] = [
  { rows: 1, dim: 1, eps: 1e-5, scale: 1 },
  { rows: 3, dim: 17, eps: 1e-5, scale: 1 },
  { rows: 1, dim: 1003, eps: 1e-5, scale: 1 },
  { rows: 17, dim: 100, eps: 1e-6, scale: 1 },
  { rows: 3, dim: 1003, eps: 1e-6, scale: 1000 },
  { rows: 100, dim: 3, eps: 1e-5, scale: 1e-3 }, // eps matters here
];

export const RMS_NORM_CASES: OpCase<'rmsNorm'>[] = [
  ...NORM_SHAPES.map(
    (c): OpCase<'rmsNorm'> => ({
      label: `${c.rows} x ${c.dim}, eps ${c.eps}, inputs ±${c.scale}`,
      run: ({ rng, tensor }) => {
        const x = uniform(rng, c.rows * c.dim, -c.scale, c.scale);
        const w = uniform(rng, c.dim, -2, 2);
        const y = rmsNorm(tensor(x, [c.rows, c.dim]), tensor(w, [c.dim]), c.eps);
        const expected = rmsNormRef(x, w, c.rows, c.dim, c.eps);
        return [{ output: 'y', actual: y, shape: [c.rows, c.dim], expected, tolerance: TOLERANCE.rmsNorm }];
      },
    }),
  ),
  {
    label: 'a zero row maps to zeros, 2 x 17',
    run: ({ rng, tensor }) => {
      const y = rmsNorm(tensor(new Float32Array(2 * 17), [2, 17]), tensor(uniform(rng, 17), [17]), 1e-5);
      return [
        { output: 'y', actual: y, shape: [2, 17], expected: new Float64Array(2 * 17), tolerance: { abs: 0, rel: 0 } },
      ];
    },
  },
];

type Shape4 = [number, number, number, number];

interface RopeShape {
  shape: Shape4;
  startPos: number;
  positions: number;
  theta: number;
  /** Frequencies rescaled as a model may (see rescaledFrequencies) rather than standard. */
  rescaled?: boolean;
}

const ROPE_SHAPES: RopeShape[] = [
  { shape: [1, 1, 1, 2], startPos: 0, positions: 1, theta: 10000 },
  { shape: [1, 5, 3, 16], startPos: 0, positions: 8, theta: 10000 },
  { shape: [2, 3, 4, 32], startPos: 100, positions: 128, theta: 10000 },
  { shape: [1, 1, 3, 6], startPos: 17, positions: 18, theta: 10000 }, // Dh/2 odd; last position of the table
  { shape: [1, 7, 2, 64], startPos: 500, positions: 600, theta: 500000, rescaled: true },
  { shape: [3, 1, 5, 32], startPos: 599, positions: 600, theta: 500000, rescaled: true },
];

/** Per-row positions (continuous batching): row b's tokens at its own start (the slots do not matter to rope). */
const ROPE_ROW_SHAPES: { shape: Shape4; starts: number[]; positions: number }[] = [
  { shape: [3, 2, 4, 32], starts: [100, 0, 57], positions: 128 },
  { shape: [4, 1, 2, 6], starts: [17, 0, 5, 3], positions: 18 }, // Dh/2 odd; a row at the table's last position
];

/** The inverse rotation (rope's backward), which is the rotation by the negated angles and undoes the forward one. */
const ROPE_INVERSE_SHAPES: { shape: Shape4; startPos: number }[] = [
  { shape: [1, 1, 1, 2], startPos: 0 },
  { shape: [2, 12, 3, 8], startPos: 0 },
  { shape: [1, 5, 2, 6], startPos: 100 },
];

const LAYOUTS = ['interleaved', 'half'] as const;

export const ROPE_CASES: OpCase<'rope'>[] = [
  ...LAYOUTS.flatMap((layout) =>
    ROPE_SHAPES.map(
      (c): OpCase<'rope'> => ({
        label: `${layout}: [${c.shape.join(', ')}] startPos=${c.startPos} theta=${c.theta}${c.rescaled ? ' rescaled' : ''}`,
        run: ({ backend, rng, tensor }) => {
          const headDim = c.shape[3];
          const x = uniform(
            rng,
            c.shape.reduce((a, b) => a * b),
          );
          const freqs = (c.rescaled ? rescaledFrequencies : standardFrequencies)(headDim, c.theta);
          const table = ropeTable(backend, { frequencies: freqs, positions: c.positions });
          const y = rope(tensor(x, c.shape), table, { startPos: c.startPos, layout });
          expect(table.shape).toEqual([c.positions, headDim / 2, 2]);
          return [
            {
              output: 'y',
              actual: y,
              shape: c.shape,
              expected: ropeRef(x, freqs, c.shape, c.startPos, layout),
              tolerance: TOLERANCE.rope,
            },
          ];
        },
      }),
    ),
  ),
  ...LAYOUTS.flatMap((layout) =>
    ROPE_ROW_SHAPES.map(
      (c): OpCase<'rope'> => ({
        label: `per-row, ${layout}: [${c.shape.join(', ')}] starts ${c.starts.join(', ')}`,
        run: ({ backend, rng, tensor }) => {
          const x = uniform(
            rng,
            c.shape.reduce((a, b) => a * b),
          );
          const freqs = standardFrequencies(c.shape[3], 10000);
          const table = ropeTable(backend, { frequencies: freqs, positions: c.positions });
          // Slots in reverse order: rope reads only the starts.
          const rows = cacheRows(
            backend,
            c.starts.map((startPos, b) => ({ slot: c.starts.length - 1 - b, startPos })),
          );
          const y = rope(tensor(x, c.shape), table, { rows, layout });
          rows.dispose();
          return [
            {
              output: 'y',
              actual: y,
              shape: c.shape,
              expected: ropeRef(x, freqs, c.shape, c.starts, layout),
              tolerance: TOLERANCE.rope,
            },
          ];
        },
      }),
    ),
  ),
  ...LAYOUTS.flatMap((layout) =>
    ROPE_INVERSE_SHAPES.map(
      ({ shape, startPos }): OpCase<'rope'> => ({
        label: `inverse, ${layout}: [${shape.join(', ')}] startPos=${startPos}`,
        run: ({ backend, rng, tensor }) => {
          const headDim = shape[3];
          const dY = uniform(
            rng,
            shape.reduce((a, b) => a * b),
          );
          const freqs = standardFrequencies(headDim, 10000);
          const table = ropeTable(backend, { frequencies: freqs, positions: startPos + shape[1] });
          const dYT = tensor(dY, shape);
          const dX = rope(dYT, table, { startPos, layout, inverse: true });
          const roundTrip = rope(rope(dYT, table, { startPos, layout }), table, { startPos, layout, inverse: true });
          const negated = freqs.map((f) => -f);
          return [
            {
              output: 'y',
              actual: dX,
              shape,
              expected: ropeRef(dY, negated, shape, startPos, layout),
              tolerance: TOLERANCE.rope,
            },
            { output: 'y (forward, then inverse)', actual: roundTrip, shape, expected: dY, tolerance: TOLERANCE.rope },
          ];
        },
      }),
    ),
  ),
];

const ELEMENTWISE_SHAPES = [[1], [3], [17], [100], [1003], [4099], [3, 1003], [2, 3, 17]];

/** swiglu(a, b): b uniform in ±2, a from `makeA`. */
function swigluCase(
  label: string,
  shape: number[],
  makeA: (rng: () => number, n: number) => Float32Array,
): OpCase<'swiglu'> {
  return {
    label,
    run: ({ rng, tensor }) => {
      const n = shape.reduce((x, y) => x * y);
      const a = makeA(rng, n);
      const b = uniform(rng, n, -2, 2);
      const y = swiglu(tensor(a, shape), tensor(b, shape));
      return [{ output: 'y', actual: y, shape, expected: swigluRef(a, b), tolerance: TOLERANCE.swiglu }];
    },
  };
}

export const SWIGLU_CASES: OpCase<'swiglu'>[] = [
  ...ELEMENTWISE_SHAPES.map((shape) =>
    swigluCase(`[${shape.join(', ')}], a in ±8`, shape, (rng, n) => uniform(rng, n, -8, 8)),
  ),
  swigluCase('[100], a at large magnitudes (±100)', [100], (rng) =>
    Float32Array.from([-100, -88, -50, -20, -1e-3, 0, 1e-3, 20, 50, 88, 100, ...uniform(rng, 89, -100, 100)]),
  ),
];

export const ADD_CASES: OpCase<'add'>[] = ELEMENTWISE_SHAPES.map((shape) => ({
  label: `[${shape.join(', ')}], a in ±100, b in ±1`,
  run: ({ rng, tensor }) => {
    const n = shape.reduce((x, y) => x * y);
    const a = uniform(rng, n, -100, 100);
    const b = uniform(rng, n, -1, 1);
    const y = add(tensor(a, shape), tensor(b, shape));
    return [{ output: 'y', actual: y, shape, expected: addRef(a, b), tolerance: TOLERANCE.add }];
  },
}));

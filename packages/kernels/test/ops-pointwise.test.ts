// rmsNorm, rope, swiglu and add on every backend.
import { describe, expect, it } from 'vitest';
import { add, fromArray, rmsNorm, rope, ropeTable, swiglu } from '../src/node.js';
import { expectClose, OP_BACKENDS, rngFor, uniform, useBackends } from './harness.js';
import { addRef, rescaledFrequencies, rmsNormRef, ropeRef, standardFrequencies, swigluRef } from './reference.js';
import { TOLERANCE } from './tolerances.js';

const backends = useBackends(OP_BACKENDS);

interface NormCase {
  rows: number;
  dim: number;
  eps: number;
  /** Inputs uniform in [-scale, scale). */
  scale: number;
}

const NORM_CASES: NormCase[] = [
  { rows: 1, dim: 1, eps: 1e-5, scale: 1 },
  { rows: 3, dim: 17, eps: 1e-5, scale: 1 },
  { rows: 1, dim: 1003, eps: 1e-5, scale: 1 },
  { rows: 17, dim: 100, eps: 1e-6, scale: 1 },
  { rows: 3, dim: 1003, eps: 1e-6, scale: 1000 },
  { rows: 100, dim: 3, eps: 1e-5, scale: 1e-3 }, // eps matters here
];

interface RopeCase {
  shape: [number, number, number, number];
  startPos: number;
  positions: number;
  theta: number;
  /** Frequencies rescaled as a model may (see rescaledFrequencies) rather than standard. */
  rescaled?: boolean;
}

const ROPE_CASES: RopeCase[] = [
  { shape: [1, 1, 1, 2], startPos: 0, positions: 1, theta: 10000 },
  { shape: [1, 5, 3, 16], startPos: 0, positions: 8, theta: 10000 },
  { shape: [2, 3, 4, 32], startPos: 100, positions: 128, theta: 10000 },
  { shape: [1, 1, 3, 6], startPos: 17, positions: 18, theta: 10000 }, // Dh/2 odd; last position of the table
  { shape: [1, 7, 2, 64], startPos: 500, positions: 600, theta: 500000, rescaled: true },
  { shape: [3, 1, 5, 32], startPos: 599, positions: 600, theta: 500000, rescaled: true },
];

const ropeLabel = (c: RopeCase) =>
  `[${c.shape.join(', ')}] startPos=${c.startPos} theta=${c.theta}${c.rescaled ? ' rescaled' : ''}`;

const ELEMENTWISE_SHAPES = [[1], [3], [17], [100], [1003], [4099], [3, 1003], [2, 3, 17]].map((shape) => ({ shape }));

describe.each(OP_BACKENDS)('on %s', (name) => {
  describe('rmsNorm', () => {
    it.for(NORM_CASES)('$rows x $dim, eps $eps, inputs ±$scale', async (c, context) => {
      const backend = backends.get(name, context);
      const rng = rngFor(`rmsNorm ${JSON.stringify(c)}`);
      const x = uniform(rng, c.rows * c.dim, -c.scale, c.scale);
      const w = uniform(rng, c.dim, -2, 2);
      const y = rmsNorm(fromArray(backend, x, [c.rows, c.dim]), fromArray(backend, w, [c.dim]), c.eps);
      expect(y.shape).toEqual([c.rows, c.dim]);
      expectClose(await y.toFloat32(), rmsNormRef(x, w, c.rows, c.dim, c.eps), TOLERANCE.rmsNorm, {
        op: 'rmsNorm',
        backend: name,
        label: JSON.stringify(c),
        shape: [c.rows, c.dim],
      });
    });

    it('maps a zero row to zeros', async (context) => {
      const backend = backends.get(name, context);
      const y = rmsNorm(
        fromArray(backend, new Float32Array(2 * 17), [2, 17]),
        fromArray(backend, uniform(rngFor('w'), 17), [17]),
        1e-5,
      );
      expect(Array.from(await y.toFloat32()).every((v) => v === 0)).toBe(true);
    });
  });

  describe('rope', () => {
    for (const layout of ['interleaved', 'half'] as const) {
      it.for(ROPE_CASES.map((c) => ({ ...c, label: ropeLabel(c) })))(`${layout}: $label`, async (c, context) => {
        const backend = backends.get(name, context);
        const [, , , headDim] = c.shape;
        const x = uniform(
          rngFor(`rope ${ropeLabel(c)}`),
          c.shape.reduce((a, b) => a * b),
        );
        const freqs = (c.rescaled ? rescaledFrequencies : standardFrequencies)(headDim, c.theta);
        const table = ropeTable(backend, { frequencies: freqs, positions: c.positions });
        expect(table.shape).toEqual([c.positions, headDim / 2, 2]);
        const y = rope(fromArray(backend, x, c.shape), table, { startPos: c.startPos, layout });
        expect(y.shape).toEqual(c.shape);
        expectClose(await y.toFloat32(), ropeRef(x, freqs, c.shape, c.startPos, layout), TOLERANCE.rope, {
          op: `rope (${layout})`,
          backend: name,
          label: ropeLabel(c),
          shape: c.shape,
        });
      });
    }

    it('the two layouts differ by a permutation of each head', async (context) => {
      // Sanity check of the test itself: half-layout rope on a head permuted (2j, 2j+1) → (j, j + Dh/2)
      // equals the interleaved rope, permuted the same way.
      const backend = backends.get(name, context);
      const shape: [number, number, number, number] = [1, 2, 1, 8];
      const x = uniform(rngFor('permutation'), 16);
      const perm = (v: Float32Array) => {
        const out = new Float32Array(v.length);
        for (let h = 0; h < v.length / 8; h++) {
          for (let j = 0; j < 4; j++) {
            out[h * 8 + j] = v[h * 8 + 2 * j] as number;
            out[h * 8 + j + 4] = v[h * 8 + 2 * j + 1] as number;
          }
        }
        return out;
      };
      const table = ropeTable(backend, { frequencies: standardFrequencies(8, 10000), positions: 10 });
      const a = await rope(fromArray(backend, x, shape), table, { startPos: 7, layout: 'interleaved' }).toFloat32();
      const b = await rope(fromArray(backend, perm(x), shape), table, { startPos: 7, layout: 'half' }).toFloat32();
      expectClose(b, perm(a), { abs: 1e-6, rel: 0 }, { op: 'rope', backend: name, label: 'layouts', shape });
    });
  });

  describe('swiglu and add', () => {
    it.for(ELEMENTWISE_SHAPES)('swiglu $shape', async ({ shape }, context) => {
      const backend = backends.get(name, context);
      const n = shape.reduce((a, b) => a * b);
      const rng = rngFor(`swiglu ${shape}`);
      const a = uniform(rng, n, -8, 8);
      const b = uniform(rng, n, -2, 2);
      const y = swiglu(fromArray(backend, a, shape), fromArray(backend, b, shape));
      expect(y.shape).toEqual(shape);
      expectClose(await y.toFloat32(), swigluRef(a, b), TOLERANCE.swiglu, {
        op: 'swiglu',
        backend: name,
        label: 'inputs ±8',
        shape,
      });
    });

    it('swiglu at large magnitudes (±100)', async (context) => {
      const backend = backends.get(name, context);
      const a = Float32Array.from([
        -100,
        -88,
        -50,
        -20,
        -1e-3,
        0,
        1e-3,
        20,
        50,
        88,
        100,
        ...uniform(rngFor('big'), 89, -100, 100),
      ]);
      const b = uniform(rngFor('big b'), a.length, -2, 2);
      const y = swiglu(fromArray(backend, a, [a.length]), fromArray(backend, b, [a.length]));
      expectClose(await y.toFloat32(), swigluRef(a, b), TOLERANCE.swiglu, {
        op: 'swiglu',
        backend: name,
        label: 'inputs ±100',
        shape: [a.length],
      });
    });

    it.for(ELEMENTWISE_SHAPES)('add $shape', async ({ shape }, context) => {
      const backend = backends.get(name, context);
      const n = shape.reduce((a, b) => a * b);
      const rng = rngFor(`add ${shape}`);
      const a = uniform(rng, n, -100, 100);
      const b = uniform(rng, n, -1, 1);
      const y = add(fromArray(backend, a, shape), fromArray(backend, b, shape));
      expect(y.shape).toEqual(shape);
      expectClose(await y.toFloat32(), addRef(a, b), TOLERANCE.add, { op: 'add', backend: name, label: '', shape });
    });
  });
});

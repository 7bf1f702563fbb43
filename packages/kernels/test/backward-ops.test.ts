// The backward ops on every backend against float64 analytic gradients (test/backward-reference.ts).
import { describe, expect, it } from 'vitest';
import {
  crossEntropy,
  embeddingBackward,
  fromArray,
  matmulGradInput,
  matmulGradWeight,
  rmsNormBackward,
  rope,
  ropeTable,
  swigluBackward,
  type Tensor,
} from '../src/node.js';
import {
  crossEntropyRef,
  embeddingBackwardRef,
  matmulGradInputRef,
  matmulGradWeightRef,
  rmsNormBackwardRef,
  swigluBackwardRef,
} from './backward-reference.js';
import {
  type BackendName,
  expectClose,
  OP_BACKENDS,
  randomInts,
  rngFor,
  type Tolerance,
  uniform,
  useBackends,
} from './harness.js';
import { ropeRef, standardFrequencies } from './reference.js';
import { TOLERANCE } from './tolerances.js';

const backends = useBackends(OP_BACKENDS);

async function compare(
  actual: Tensor,
  expected: Float64Array,
  tolerance: Tolerance,
  op: string,
  backend: BackendName,
  label: string,
) {
  expectClose(await actual.toFloat32(), expected, tolerance, { op, backend, label, shape: actual.shape });
}

const MATMUL_CASES = [
  { M: 1, N: 1, K: 1 },
  { M: 3, N: 17, K: 5 },
  { M: 17, N: 3, K: 33 },
  { M: 16, N: 16, K: 16 },
  { M: 12, N: 48, K: 40 },
  // Past one 64 × 64 WebGPU output tile in each direction, odd sizes.
  { M: 70, N: 131, K: 67 },
  { M: 130, N: 19, K: 65 },
];

describe.each(OP_BACKENDS)('on %s', (name) => {
  it.for(MATMUL_CASES)('matmulGradInput and matmulGradWeight, M=$M N=$N K=$K', async ({ M, N, K }, context) => {
    const backend = backends.get(name, context);
    const rng = rngFor(`grad matmul ${M} ${N} ${K}`);
    const dY = uniform(rng, M * N);
    const w = uniform(rng, N * K);
    const x = uniform(rng, M * K);
    const initial = uniform(rng, N * K);
    const label = `M=${M} N=${N} K=${K}`;
    const dYT = fromArray(backend, dY, [M, N]);
    const dX = matmulGradInput(dYT, fromArray(backend, w, [N, K]));
    expect(dX.shape).toEqual([M, K]);
    await compare(dX, matmulGradInputRef(dY, w, M, N, K), TOLERANCE.matmulGrad(N), 'matmulGradInput', name, label);
    const xT = fromArray(backend, x, [M, K]);
    const dW = matmulGradWeight(dYT, xT);
    expect(dW.shape).toEqual([N, K]);
    await compare(dW, matmulGradWeightRef(dY, x, M, N, K), TOLERANCE.matmulGrad(M), 'matmulGradWeight', name, label);
    // Accumulation: into an existing gradient, twice.
    const into = fromArray(backend, initial, [N, K]);
    expect(matmulGradWeight(dYT, xT, { into })).toBe(into);
    matmulGradWeight(dYT, xT, { into });
    const twice = matmulGradWeightRef(dY, x, M, N, K, matmulGradWeightRef(dY, x, M, N, K, initial));
    await compare(into, twice, TOLERANCE.matmulGrad(2 * M), 'matmulGradWeight (accumulate x2)', name, label);
  });

  it.for([
    { R: 1, V: 1, spread: 1 },
    { R: 3, V: 17, spread: 3 },
    { R: 17, V: 100, spread: 3 },
    { R: 5, V: 1003, spread: 3 },
    { R: 4, V: 33, spread: 80 },
  ])('crossEntropy R=$R V=$V logits ±$spread', async ({ R, V, spread }, context) => {
    const backend = backends.get(name, context);
    const rng = rngFor(`ce ${R} ${V} ${spread}`);
    const logits = uniform(rng, R * V, -spread, spread);
    const targets = randomInts(rng, R, 0, V);
    if (R > 2) {
      targets[0] = -1; // padding
      targets[2] = V; // out of range: ignored too
    }
    const counted = Array.from(targets).filter((t) => t >= 0 && t < V).length;
    const scale = 1 / Math.max(1, counted);
    const { loss, dLogits } = crossEntropy(
      fromArray(backend, logits, [R, V]),
      fromArray(backend, targets, [R], 'i32'),
      { scale },
    );
    expect(loss.shape).toEqual([R]);
    expect(dLogits.shape).toEqual([R, V]);
    const ref = crossEntropyRef(logits, targets, R, V, scale);
    const label = `R=${R} V=${V} ±${spread}`;
    await compare(loss, ref.loss, TOLERANCE.crossEntropyLoss, 'crossEntropy loss', name, label);
    await compare(dLogits, ref.dLogits, TOLERANCE.crossEntropyGrad, 'crossEntropy dLogits', name, label);
  });

  it.for([
    { R: 1, D: 1 },
    { R: 3, D: 17 },
    { R: 17, D: 48 },
    { R: 2, D: 1003 },
    { R: 100, D: 3 },
  ])('rmsNormBackward R=$R D=$D', async ({ R, D }, context) => {
    const backend = backends.get(name, context);
    const rng = rngFor(`rms back ${R} ${D}`);
    const eps = 1e-5;
    const x = uniform(rng, R * D);
    const w = uniform(rng, D, -2, 2);
    const dY = uniform(rng, R * D);
    const initial = uniform(rng, D);
    const tensors = [
      fromArray(backend, x, [R, D]),
      fromArray(backend, w, [D]),
      fromArray(backend, dY, [R, D]),
    ] as const;
    const { dX, dWeight } = rmsNormBackward(...tensors, eps);
    const ref = rmsNormBackwardRef(x, w, dY, R, D, eps);
    const label = `R=${R} D=${D}`;
    await compare(dX, ref.dX, TOLERANCE.rmsNormBackward, 'rmsNormBackward dX', name, label);
    await compare(dWeight, ref.dWeight, TOLERANCE.rmsNormBackward, 'rmsNormBackward dWeight', name, label);
    const into = fromArray(backend, initial, [D]);
    expect(rmsNormBackward(...tensors, eps, { into }).dWeight).toBe(into);
    const accumulated = rmsNormBackwardRef(x, w, dY, R, D, eps, initial).dWeight;
    await compare(into, accumulated, TOLERANCE.rmsNormBackward, 'rmsNormBackward dWeight (accumulate)', name, label);
  });

  it.for([{ shape: [1] }, { shape: [3] }, { shape: [17] }, { shape: [3, 1003] }, { shape: [2, 3, 17] }])(
    'swigluBackward $shape, a in ±8 (and ±100 at the ends)',
    async ({ shape }, context) => {
      const backend = backends.get(name, context);
      const n = shape.reduce((a, b) => a * b);
      const rng = rngFor(`swiglu back ${shape}`);
      const a = uniform(rng, n, -8, 8);
      if (n > 2) {
        a[0] = -100;
        a[n - 1] = 100;
      }
      const b = uniform(rng, n, -2, 2);
      const dY = uniform(rng, n);
      const { dA, dB } = swigluBackward(
        fromArray(backend, a, shape),
        fromArray(backend, b, shape),
        fromArray(backend, dY, shape),
      );
      expect(dA.shape).toEqual(shape);
      const ref = swigluBackwardRef(a, b, dY);
      await compare(dA, ref.dA, TOLERANCE.swigluBackward, 'swigluBackward dA', name, `${shape}`);
      await compare(dB, ref.dB, TOLERANCE.swigluBackward, 'swigluBackward dB', name, `${shape}`);
    },
  );

  it.for([
    { T: 1, V: 1, D: 1 },
    { T: 12, V: 5, D: 3 },
    { T: 7, V: 17, D: 48 },
    { T: 12, V: 65, D: 17 },
  ])('embeddingBackward T=$T V=$V D=$D', async ({ T, V, D }, context) => {
    const backend = backends.get(name, context);
    const rng = rngFor(`emb back ${T} ${V} ${D}`);
    const ids = randomInts(rng, T, 0, V);
    if (T > 3) {
      ids[1] = -1;
      ids[3] = V;
      ids[T - 1] = ids[0] as number; // a repeat
    }
    const dY = uniform(rng, T * D);
    const initial = uniform(rng, V * D);
    const idsT = fromArray(backend, ids, [T], 'i32');
    const dYT = fromArray(backend, dY, [T, D]);
    const dTable = embeddingBackward(idsT, dYT, V);
    expect(dTable.shape).toEqual([V, D]);
    const label = `T=${T} V=${V} D=${D}`;
    await compare(
      dTable,
      embeddingBackwardRef(ids, dY, V, D),
      TOLERANCE.embeddingBackward,
      'embeddingBackward',
      name,
      label,
    );
    const into = fromArray(backend, initial, [V, D]);
    embeddingBackward(idsT, dYT, V, { into });
    const accumulated = embeddingBackwardRef(ids, dY, V, D, initial);
    await compare(into, accumulated, TOLERANCE.embeddingBackward, 'embeddingBackward (accumulate)', name, label);
  });

  for (const layout of ['interleaved', 'half'] as const) {
    it.for([
      { shape: [1, 1, 1, 2] as [number, number, number, number], startPos: 0 },
      { shape: [2, 12, 3, 8] as [number, number, number, number], startPos: 0 },
      { shape: [1, 5, 2, 6] as [number, number, number, number], startPos: 100 },
    ])(`rope inverse (${layout}) $shape at $startPos`, async ({ shape, startPos }, context) => {
      const backend = backends.get(name, context);
      const n = shape.reduce((a, b) => a * b);
      const dY = uniform(rngFor(`rope inv ${shape} ${startPos}`), n);
      const headDim = shape[3];
      const table = ropeTable(backend, {
        frequencies: standardFrequencies(headDim, 10000),
        positions: startPos + shape[1],
      });
      const dYT = fromArray(backend, dY, shape);
      const dX = rope(dYT, table, { startPos, layout, inverse: true });
      // The inverse rotation is the rotation by the negated angles.
      const negated = standardFrequencies(headDim, 10000).map((f) => -f);
      await compare(
        dX,
        ropeRef(dY, negated, shape, startPos, layout),
        TOLERANCE.rope,
        `rope inverse (${layout})`,
        name,
        `${shape}`,
      );
      // And undoes the forward rotation.
      const roundTrip = rope(rope(dYT, table, { startPos, layout }), table, { startPos, layout, inverse: true });
      await compare(
        roundTrip,
        Float64Array.from(dY),
        TOLERANCE.rope,
        `rope then inverse (${layout})`,
        name,
        `${shape}`,
      );
    });
  }
});

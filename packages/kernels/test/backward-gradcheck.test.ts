// The backward ops (CPU backend) against central finite differences of float64 forward references:
// each gradient is that of L = Σ c ⊙ forward(inputs) for a random c, which is passed as dY.
import { describe, it } from 'vitest';
import {
  type Backend,
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
import { crossEntropyRef } from './backward-reference.js';
import { expectClose, randomInts, rngFor, uniform, useBackends } from './harness.js';
import { embeddingRef, matmulRef, rmsNormRef, ropeRef, standardFrequencies, swigluRef } from './reference.js';
import { TOLERANCE } from './tolerances.js';

const backends = useBackends(['cpu']);
const H = 1e-5;

/** ∂L/∂x by central differences, x perturbed in float64 one element at a time. */
function numericGradient(loss: (x: Float64Array) => number, x: ArrayLike<number>): Float64Array {
  const point = Float64Array.from(x);
  const grad = new Float64Array(point.length);
  for (let i = 0; i < point.length; i++) {
    const saved = point[i] as number;
    point[i] = saved + H;
    const plus = loss(point);
    point[i] = saved - H;
    const minus = loss(point);
    point[i] = saved;
    grad[i] = (plus - minus) / (2 * H);
  }
  return grad;
}

const dot = (c: ArrayLike<number>, y: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (c[i] as number) * (y[i] as number);
  return s;
};

async function check(actual: Tensor, expected: Float64Array, op: string, label: string): Promise<void> {
  expectClose(await actual.toFloat32(), expected, TOLERANCE.gradcheck, {
    op,
    backend: 'cpu vs finite differences',
    label,
    shape: actual.shape,
  });
}

describe('gradient checks (cpu, float64 central differences, h = 1e-5)', () => {
  it.for([
    { M: 1, N: 1, K: 1 },
    { M: 3, N: 5, K: 7 },
    { M: 4, N: 17, K: 3 },
  ])('matmul: dX and dW of y = x · wᵀ, M=$M N=$N K=$K', async ({ M, N, K }, context) => {
    const backend = backends.get('cpu', context);
    const rng = rngFor(`gc matmul ${M} ${N} ${K}`);
    const x = uniform(rng, M * K);
    const w = uniform(rng, N * K);
    const c = uniform(rng, M * N);
    const cT = fromArray(backend, c, [M, N]);
    const label = `M=${M} N=${N} K=${K}`;
    await check(
      matmulGradInput(cT, fromArray(backend, w, [N, K])),
      numericGradient((xp) => dot(c, matmulRef(xp, w, M, N, K).y), x),
      'matmulGradInput',
      label,
    );
    await check(
      matmulGradWeight(cT, fromArray(backend, x, [M, K])),
      numericGradient((wp) => dot(c, matmulRef(x, wp, M, N, K).y), w),
      'matmulGradWeight',
      label,
    );
  });

  it.for([
    { R: 1, V: 1 },
    { R: 5, V: 7 },
    { R: 3, V: 17 },
  ])('crossEntropy: dLogits of scale · Σ loss, R=$R V=$V, one padded row', async ({ R, V }, context) => {
    const backend = backends.get('cpu', context);
    const rng = rngFor(`gc ce ${R} ${V}`);
    const logits = uniform(rng, R * V, -3, 3);
    const targets = randomInts(rng, R, 0, V);
    if (R > 1) targets[1] = -1;
    const counted = Array.from(targets).filter((t) => t >= 0).length;
    const scale = 1 / counted;
    const { loss, dLogits } = crossEntropy(
      fromArray(backend, logits, [R, V]),
      fromArray(backend, targets, [R], 'i32'),
      {
        scale,
      },
    );
    const total = (l: Float64Array) => crossEntropyRef(l, targets, R, V, 1).loss.reduce((a, b) => a + b, 0) * scale;
    await check(dLogits, numericGradient(total, logits), 'crossEntropy dLogits', `R=${R} V=${V}`);
    await check(loss, crossEntropyRef(logits, targets, R, V, scale).loss, 'crossEntropy loss', `R=${R} V=${V}`);
  });

  it.for([
    { R: 1, D: 1 },
    { R: 3, D: 17 },
    { R: 5, D: 48 },
  ])('rmsNorm: dX and dWeight, R=$R D=$D', async ({ R, D }, context) => {
    const backend = backends.get('cpu', context);
    const rng = rngFor(`gc rms ${R} ${D}`);
    const eps = 1e-5;
    const x = uniform(rng, R * D);
    const w = uniform(rng, D, -2, 2);
    const c = uniform(rng, R * D);
    const { dX, dWeight } = rmsNormBackward(
      fromArray(backend, x, [R, D]),
      fromArray(backend, w, [D]),
      fromArray(backend, c, [R, D]),
      eps,
    );
    const label = `R=${R} D=${D}`;
    await check(
      dX,
      numericGradient((xp) => dot(c, rmsNormRef(xp, w, R, D, eps)), x),
      'rmsNormBackward dX',
      label,
    );
    await check(
      dWeight,
      numericGradient((wp) => dot(c, rmsNormRef(x, wp, R, D, eps)), w),
      'rmsNormBackward dWeight',
      label,
    );
  });

  it.for([{ n: 1 }, { n: 17 }, { n: 48 }])('swiglu: dA and dB, n=$n, a in ±8', async ({ n }, context) => {
    const backend = backends.get('cpu', context);
    const rng = rngFor(`gc swiglu ${n}`);
    const a = uniform(rng, n, -8, 8);
    const b = uniform(rng, n, -2, 2);
    const c = uniform(rng, n);
    const { dA, dB } = swigluBackward(
      fromArray(backend, a, [n]),
      fromArray(backend, b, [n]),
      fromArray(backend, c, [n]),
    );
    await check(
      dA,
      numericGradient((ap) => dot(c, swigluRef(ap, b)), a),
      'swigluBackward dA',
      `n=${n}`,
    );
    await check(
      dB,
      numericGradient((bp) => dot(c, swigluRef(a, bp)), b),
      'swigluBackward dB',
      `n=${n}`,
    );
  });

  it.for([
    { T: 1, V: 1, D: 1 },
    { T: 12, V: 5, D: 3 },
    { T: 7, V: 17, D: 4 },
  ])('embedding: dTable, T=$T V=$V D=$D (repeated ids, one out of range)', async ({ T, V, D }, context) => {
    const backend = backends.get('cpu', context);
    const rng = rngFor(`gc emb ${T} ${V} ${D}`);
    const table = uniform(rng, V * D);
    const ids = randomInts(rng, T, 0, V);
    if (T > 2) ids[2] = -1;
    const c = uniform(rng, T * D);
    const dTable = embeddingBackward(fromArray(backend, ids, [T], 'i32'), fromArray(backend, c, [T, D]), V);
    await check(
      dTable,
      numericGradient((tp) => dot(c, embeddingRef(tp, ids, V, D)), table),
      'embeddingBackward',
      `T=${T} V=${V} D=${D}`,
    );
  });

  for (const layout of ['interleaved', 'half'] as const) {
    it.for([
      { shape: [1, 1, 1, 2] as const, startPos: 0 },
      { shape: [2, 3, 2, 6] as const, startPos: 5 },
    ])(`rope (${layout}) inverse is the backward, $shape at $startPos`, async ({ shape, startPos }, context) => {
      const backend: Backend = backends.get('cpu', context);
      const n = shape.reduce((a: number, b: number) => a * b, 1);
      const rng = rngFor(`gc rope ${layout} ${shape}`);
      const x = uniform(rng, n);
      const c = uniform(rng, n);
      const headDim = shape[3];
      const freqs = standardFrequencies(headDim, 10000);
      const table = ropeTable(backend, { frequencies: freqs, positions: startPos + shape[1] });
      const dX = rope(fromArray(backend, c, shape), table, { startPos, layout, inverse: true });
      await check(
        dX,
        numericGradient((xp) => dot(c, ropeRef(xp, freqs, shape, startPos, layout)), x),
        `rope inverse (${layout})`,
        `[${shape}] startPos=${startPos}`,
      );
    });
  }
});

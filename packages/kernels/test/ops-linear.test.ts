// matmul, matmulSwiglu and embedding on every backend, with f32, f16 and q8_0 weights, and with weights and tables
// split across bindings (the 'webgpu-split' backend binds at most 4 KiB per buffer).
import { describe, expect, it } from 'vitest';
import { type Backend, embedding, fromArray, matmul, matmulSwiglu, type WeightDType } from '../src/node.js';
import {
  asStored,
  type BackendName,
  expectClose,
  OP_BACKENDS,
  randomInts,
  rngFor,
  SPLIT_BINDING_BYTES,
  uniform,
  useBackends,
} from './harness.js';
import { embeddingRef, matmulRef, swigluRef } from './reference.js';
import { TOLERANCE } from './tolerances.js';

const backends = useBackends([...OP_BACKENDS, 'webgpu-split']);

interface MatmulCase {
  M: number;
  N: number;
  K: number;
  dtype: WeightDType;
}

const MATMUL_CASES: MatmulCase[] = [
  // f32: matrix-vector (M = 1) and tiled (M > 1), odd sizes in every dim.
  { M: 1, N: 1, K: 1, dtype: 'f32' },
  { M: 1, N: 3, K: 17, dtype: 'f32' },
  { M: 1, N: 1003, K: 100, dtype: 'f32' },
  { M: 1, N: 100, K: 1003, dtype: 'f32' },
  { M: 3, N: 100, K: 1003, dtype: 'f32' },
  { M: 17, N: 1003, K: 100, dtype: 'f32' },
  { M: 17, N: 3, K: 17, dtype: 'f32' },
  { M: 100, N: 17, K: 3, dtype: 'f32' },
  { M: 65, N: 33, K: 64, dtype: 'f32' },
  // f16
  { M: 1, N: 1, K: 1, dtype: 'f16' },
  { M: 1, N: 3, K: 17, dtype: 'f16' },
  { M: 1, N: 1003, K: 100, dtype: 'f16' },
  { M: 1, N: 100, K: 1003, dtype: 'f16' },
  { M: 3, N: 100, K: 1003, dtype: 'f16' },
  { M: 17, N: 1003, K: 100, dtype: 'f16' },
  { M: 100, N: 17, K: 3, dtype: 'f16' },
  // q8_0 (K a multiple of 32)
  { M: 1, N: 1, K: 32, dtype: 'q8_0' },
  { M: 1, N: 3, K: 64, dtype: 'q8_0' },
  { M: 1, N: 1003, K: 96, dtype: 'q8_0' },
  { M: 1, N: 100, K: 1024, dtype: 'q8_0' },
  { M: 3, N: 100, K: 1024, dtype: 'q8_0' },
  { M: 17, N: 1003, K: 96, dtype: 'q8_0' },
  { M: 100, N: 17, K: 32, dtype: 'q8_0' },
  { M: 5, N: 17, K: 160, dtype: 'q8_0' },
  // Long rows: the WebGPU matrix-vector kernel widens its row sets from 8 lanes to 16 and 32 as
  // rows hold more 16-byte weight groups (f32 4 weights, f16 8, q8_0 16 per group).
  { M: 1, N: 37, K: 2048, dtype: 'f32' },
  { M: 1, N: 37, K: 4100, dtype: 'f32' },
  { M: 1, N: 19, K: 4096, dtype: 'f16' },
  { M: 1, N: 19, K: 8200, dtype: 'f16' },
  { M: 1, N: 11, K: 8192, dtype: 'q8_0' },
  { M: 1, N: 11, K: 16384, dtype: 'q8_0' },
];

const label = (c: MatmulCase) => `M=${c.M} N=${c.N} K=${c.K} ${c.dtype}`;

async function checkMatmul(name: BackendName, backend: Backend, c: MatmulCase) {
  const rng = rngFor(`matmul ${label(c)}`);
  const x = uniform(rng, c.M * c.K);
  const w = uniform(rng, c.N * c.K);
  const xt = fromArray(backend, x, [c.M, c.K]);
  const wt = fromArray(backend, w, [c.N, c.K], c.dtype);
  const y = matmul(xt, wt);
  expect(y.shape).toEqual([c.M, c.N]);
  expect(y.dtype).toBe('f32');
  const { y: expected } = matmulRef(x, asStored(w, c.dtype, c.K), c.M, c.N, c.K);
  expectClose(await y.toFloat32(), expected, TOLERANCE.matmul(c.K), {
    op: 'matmul',
    backend: name,
    label: label(c),
    shape: [c.M, c.N],
  });
  for (const t of [xt, wt, y]) t.dispose();
}

/** The fused gate: weights uniform in ±1/√K, as in a real layer, so that x·w1ᵀ and x·w3ᵀ are O(1). */
async function checkMatmulSwiglu(name: BackendName, backend: Backend, c: MatmulCase) {
  const rng = rngFor(`matmulSwiglu ${label(c)}`);
  const scale = 1 / Math.sqrt(c.K);
  const x = uniform(rng, c.M * c.K);
  const w1 = uniform(rng, c.N * c.K, -scale, scale);
  const w3 = uniform(rng, c.N * c.K, -scale, scale);
  const xt = fromArray(backend, x, [c.M, c.K]);
  const w1t = fromArray(backend, w1, [c.N, c.K], c.dtype);
  const w3t = fromArray(backend, w3, [c.N, c.K], c.dtype);
  const y = matmulSwiglu(xt, w1t, w3t);
  expect(y.shape).toEqual([c.M, c.N]);
  const gate = matmulRef(x, asStored(w1, c.dtype, c.K), c.M, c.N, c.K).y;
  const up = matmulRef(x, asStored(w3, c.dtype, c.K), c.M, c.N, c.K).y;
  expectClose(await y.toFloat32(), swigluRef(gate, up), TOLERANCE.matmulSwiglu, {
    op: 'matmulSwiglu',
    backend: name,
    label: label(c),
    shape: [c.M, c.N],
  });
  for (const t of [xt, w1t, w3t, y]) t.dispose();
}

const MATMUL_SWIGLU_CASES: MatmulCase[] = [
  { M: 1, N: 1, K: 1, dtype: 'f32' },
  { M: 1, N: 1003, K: 100, dtype: 'f32' },
  { M: 3, N: 100, K: 1003, dtype: 'f32' },
  { M: 17, N: 1003, K: 100, dtype: 'f32' },
  { M: 1, N: 100, K: 1003, dtype: 'f16' },
  { M: 17, N: 3, K: 17, dtype: 'f16' },
  { M: 1, N: 1003, K: 96, dtype: 'q8_0' },
  { M: 5, N: 100, K: 1024, dtype: 'q8_0' },
  { M: 1, N: 19, K: 4096, dtype: 'f32' },
];

interface EmbeddingCase {
  vocab: number;
  dim: number;
  tokens: number;
  dtype: WeightDType;
}

const EMBEDDING_CASES: EmbeddingCase[] = [
  { vocab: 1, dim: 1, tokens: 1, dtype: 'f32' },
  { vocab: 17, dim: 3, tokens: 5, dtype: 'f32' },
  { vocab: 100, dim: 1003, tokens: 3, dtype: 'f32' },
  { vocab: 1003, dim: 17, tokens: 100, dtype: 'f32' },
  { vocab: 17, dim: 3, tokens: 5, dtype: 'f16' },
  { vocab: 100, dim: 1003, tokens: 3, dtype: 'f16' },
  { vocab: 1003, dim: 17, tokens: 100, dtype: 'f16' },
  { vocab: 3, dim: 32, tokens: 7, dtype: 'q8_0' },
  { vocab: 100, dim: 1024, tokens: 3, dtype: 'q8_0' },
  { vocab: 1003, dim: 96, tokens: 100, dtype: 'q8_0' },
];

const embeddingLabel = (c: EmbeddingCase) => `V=${c.vocab} D=${c.dim} T=${c.tokens} ${c.dtype}`;

/** Random ids with the first and last rows always present, and repeats. */
function embeddingIds(c: EmbeddingCase): Int32Array {
  const ids = randomInts(rngFor(`ids ${embeddingLabel(c)}`), c.tokens, 0, c.vocab);
  ids[0] = c.vocab - 1;
  if (c.tokens > 2) ids[c.tokens - 1] = 0;
  if (c.tokens > 3) ids[1] = ids[c.tokens - 2] as number;
  return ids;
}

async function checkEmbedding(name: BackendName, backend: Backend, c: EmbeddingCase, ids: Int32Array) {
  const table = uniform(rngFor(`embedding ${embeddingLabel(c)}`), c.vocab * c.dim);
  const tt = fromArray(backend, table, [c.vocab, c.dim], c.dtype);
  const it = fromArray(backend, ids, [ids.length], 'i32');
  const y = embedding(tt, it);
  expect(y.shape).toEqual([ids.length, c.dim]);
  const expected = embeddingRef(asStored(table, c.dtype, c.dim), ids, c.vocab, c.dim);
  expectClose(await y.toFloat32(), expected, TOLERANCE.embedding[c.dtype], {
    op: 'embedding',
    backend: name,
    label: `${embeddingLabel(c)} ids [${Array.from(ids.slice(0, 8)).join(', ')}${ids.length > 8 ? ', ...' : ''}]`,
    shape: [ids.length, c.dim],
  });
  for (const t of [tt, it, y]) t.dispose();
}

describe.each(OP_BACKENDS)('on %s', (name) => {
  describe('matmul', () => {
    it.for(MATMUL_CASES)('$M x $K times ($N x $K)ᵀ, $dtype weight', async (c, context) => {
      await checkMatmul(name, backends.get(name, context), c);
    });
  });

  describe('matmulSwiglu', () => {
    it.for(MATMUL_SWIGLU_CASES)('silu($M x $K · w1ᵀ) ⊙ ($M x $K · w3ᵀ), N=$N, $dtype weights', async (c, context) => {
      await checkMatmulSwiglu(name, backends.get(name, context), c);
    });
  });

  describe('embedding', () => {
    it.for(EMBEDDING_CASES)('V=$vocab D=$dim T=$tokens, $dtype table', async (c, context) => {
      await checkEmbedding(name, backends.get(name, context), c, embeddingIds(c));
    });

    it('gives zero rows for ids outside 0..V-1', async (context) => {
      const c: EmbeddingCase = { vocab: 10, dim: 17, tokens: 6, dtype: 'f32' };
      await checkEmbedding(name, backends.get(name, context), c, Int32Array.from([3, -1, 10, 9, -2147483648, 0]));
    });
  });
});

/**
 * The 'webgpu-split' backend splits any tensor over 4 KiB into row chunks. Activations here stay
 * under 4 KiB (x and y at most 1024 f32), weights and tables are well over it, with a row count that
 * the chunk size does not divide.
 */
describe('on webgpu-split (weights and tables split across 4 KiB bindings)', () => {
  const SPLIT_MATMUL: MatmulCase[] = [
    { M: 1, N: 100, K: 64, dtype: 'f32' }, // 25.6 KB weight, 16 rows a chunk
    { M: 3, N: 100, K: 17, dtype: 'f32' }, // rows of 68 bytes
    { M: 1, N: 100, K: 96, dtype: 'f16' },
    { M: 7, N: 100, K: 96, dtype: 'f16' },
    { M: 1, N: 100, K: 96, dtype: 'q8_0' },
    { M: 5, N: 100, K: 160, dtype: 'q8_0' },
  ];

  it.for(SPLIT_MATMUL)('matmul $M x $K times ($N x $K)ᵀ, $dtype weight', async (c, context) => {
    const backend = backends.get('webgpu-split', context);
    // The weight really is split, the activations really are not.
    const probe = fromArray(backend, new Float32Array(c.N * c.K), [c.N, c.K], c.dtype);
    expect((probe.storage as { chunks: unknown[] }).chunks.length).toBeGreaterThan(1);
    probe.dispose();
    expect(c.M * Math.max(c.K, c.N) * 4).toBeLessThanOrEqual(SPLIT_BINDING_BYTES);
    await checkMatmul('webgpu-split', backend, c);
  });

  it.for(SPLIT_MATMUL)('matmulSwiglu $M x $K, N=$N, $dtype weights', async (c, context) => {
    await checkMatmulSwiglu('webgpu-split', backends.get('webgpu-split', context), c);
  });

  const SPLIT_EMBEDDING: EmbeddingCase[] = [
    { vocab: 300, dim: 32, tokens: 31, dtype: 'f32' },
    { vocab: 300, dim: 17, tokens: 31, dtype: 'f32' },
    { vocab: 300, dim: 32, tokens: 31, dtype: 'f16' },
    { vocab: 300, dim: 64, tokens: 16, dtype: 'q8_0' },
  ];

  it.for(SPLIT_EMBEDDING)('embedding V=$vocab D=$dim T=$tokens, $dtype table', async (c, context) => {
    const backend = backends.get('webgpu-split', context);
    const probe = fromArray(backend, new Float32Array(c.vocab * c.dim), [c.vocab, c.dim], c.dtype);
    const chunks = (probe.storage as { chunks: { rowStart: number; rowCount: number }[] }).chunks;
    probe.dispose();
    expect(chunks.length).toBeGreaterThan(1);
    // Every chunk's first and last row, then random rows, out-of-range ids, and repeats.
    const edges = chunks.flatMap((chunk) => [chunk.rowStart, chunk.rowStart + chunk.rowCount - 1]);
    const ids = Int32Array.from([
      ...edges,
      -1,
      c.vocab,
      ...randomInts(rngFor(embeddingLabel(c)), c.tokens, 0, c.vocab),
    ]);
    // The output [T, D] f32 must fit one binding (it is not a splittable tensor).
    const fits = Math.floor(SPLIT_BINDING_BYTES / (4 * c.dim));
    expect(edges.length + 2).toBeLessThanOrEqual(fits);
    await checkEmbedding('webgpu-split', backend, c, ids.slice(0, fits));
  });

  it('reads back a split tensor of every weight dtype unchanged', async (context) => {
    const backend = backends.get('webgpu-split', context);
    for (const dtype of ['f32', 'f16', 'q8_0'] as const) {
      const values = uniform(rngFor(`split round trip ${dtype}`), 100 * 96);
      const t = fromArray(backend, values, [100, 96], dtype);
      expectClose(
        await t.toFloat32(),
        asStored(values, dtype, 96),
        { abs: 0, rel: 0 },
        {
          op: 'fromArray/toFloat32',
          backend: 'webgpu-split',
          label: dtype,
          shape: [100, 96],
        },
      );
      t.dispose();
    }
  });
});

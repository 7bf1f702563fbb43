// Cases of matmul, matmulSwiglu and embedding, with f32, f16, q8_0 and the 4-6-bit block weights (split-bindings.test.ts
// runs some of them again with weights and tables split across bindings).
import { type Backend, embedding, matmul, matmulSwiglu, type WeightDType } from '../../src/node.js';
import { MATVEC_MAX_ROWS } from '../../src/wasm/kernels/sizes.js';
import { asStored, randomInts, uniform } from '../harness.js';
import type { OpCase } from '../op-case.js';
import { embeddingRef, matmulRef, quantizeActivationsQ8Ref, swigluRef } from '../reference.js';
import { TOLERANCE } from '../tolerances.js';

export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  dtype: WeightDType;
}

/** The 4-6-bit block formats (q8_0 has cases of its own above them). */
const BLOCK_WEIGHT_DTYPES = ['q4_0', 'q4_1', 'q4_k', 'q5_k', 'q6_k'] as const;

const MATMUL_SHAPES: MatmulShape[] = [
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
  // The 4-6-bit block formats (K a multiple of 32 for q4_0/q4_1, 256 for the k-quants): decode
  // (M = 1), a few sequences (M = 3, the matrix-vector kernels' limit is 4), prefill (odd M and N);
  // long rows for the WebGPU matrix-vector kernel's wider lane sets.
  ...BLOCK_WEIGHT_DTYPES.flatMap((dtype): MatmulShape[] => {
    const K = dtype === 'q4_0' || dtype === 'q4_1' ? 96 : 512;
    return [
      { M: 1, N: 1, K: K === 96 ? 32 : 256, dtype },
      { M: 1, N: 1003, K, dtype },
      { M: 3, N: 37, K, dtype },
      { M: 17, N: 101, K, dtype },
      { M: 65, N: 33, K: 768, dtype },
      { M: 1, N: 19, K: 8192, dtype },
    ];
  }),
];

const MATMUL_SWIGLU_SHAPES: MatmulShape[] = [
  { M: 1, N: 1, K: 1, dtype: 'f32' },
  { M: 1, N: 1003, K: 100, dtype: 'f32' },
  { M: 3, N: 100, K: 1003, dtype: 'f32' },
  { M: 17, N: 1003, K: 100, dtype: 'f32' },
  { M: 1, N: 100, K: 1003, dtype: 'f16' },
  { M: 17, N: 3, K: 17, dtype: 'f16' },
  { M: 1, N: 1003, K: 96, dtype: 'q8_0' },
  { M: 5, N: 100, K: 1024, dtype: 'q8_0' },
  { M: 1, N: 19, K: 4096, dtype: 'f32' },
  ...BLOCK_WEIGHT_DTYPES.flatMap((dtype): MatmulShape[] => [
    { M: 1, N: 1003, K: 256, dtype },
    { M: 2, N: 37, K: 512, dtype },
    { M: 17, N: 101, K: 256, dtype },
  ]),
];

const matmulLabel = (c: MatmulShape) => `M=${c.M} N=${c.N} K=${c.K} ${c.dtype}`;

/**
 * x as the backend's kernel multiplies it: the wasm backend's decode (M ≤ MATVEC_MAX_ROWS) with
 * q8_0 or 4-6-bit block weights quantizes x per block of 32 first, as llama.cpp does (the package
 * README says what that costs in accuracy); the reference then takes that x, and the kernel's own
 * arithmetic is held to the f32 tolerance.
 */
function activationsAsMultiplied(backend: Backend, x: Float32Array, c: MatmulShape): ArrayLike<number> {
  const integerDot = c.dtype !== 'f32' && c.dtype !== 'f16';
  const quantized = backend.kind === 'wasm' && integerDot && c.M <= MATVEC_MAX_ROWS;
  return quantized ? quantizeActivationsQ8Ref(x, c.M, c.K) : x;
}

/** y = x · wᵀ: x [M, K] times a [N, K] weight stored in c.dtype. */
export function matmulCase(c: MatmulShape): OpCase<'matmul'> {
  return {
    label: matmulLabel(c),
    run: ({ rng, tensor, backend }) => {
      const x = uniform(rng, c.M * c.K);
      const w = uniform(rng, c.N * c.K);
      const xSeen = activationsAsMultiplied(backend, x, c);
      const { y: expected } = matmulRef(xSeen, asStored(w, c.dtype, c.K), c.M, c.N, c.K);
      const y = matmul(tensor(x, [c.M, c.K]), tensor(w, [c.N, c.K], c.dtype));
      return [{ output: 'y', actual: y, shape: [c.M, c.N], expected, tolerance: TOLERANCE.matmul(c.K) }];
    },
  };
}

/** The fused gate: weights uniform in ±1/√K, as in a real layer, so that x·w1ᵀ and x·w3ᵀ are O(1). */
export function matmulSwigluCase(c: MatmulShape): OpCase<'matmulSwiglu'> {
  return {
    label: matmulLabel(c),
    run: ({ rng, tensor, backend }) => {
      const scale = 1 / Math.sqrt(c.K);
      const x = uniform(rng, c.M * c.K);
      const w1 = uniform(rng, c.N * c.K, -scale, scale);
      const w3 = uniform(rng, c.N * c.K, -scale, scale);
      const y = matmulSwiglu(tensor(x, [c.M, c.K]), tensor(w1, [c.N, c.K], c.dtype), tensor(w3, [c.N, c.K], c.dtype));
      const xSeen = activationsAsMultiplied(backend, x, c);
      const gate = matmulRef(xSeen, asStored(w1, c.dtype, c.K), c.M, c.N, c.K).y;
      const up = matmulRef(xSeen, asStored(w3, c.dtype, c.K), c.M, c.N, c.K).y;
      return [
        { output: 'y', actual: y, shape: [c.M, c.N], expected: swigluRef(gate, up), tolerance: TOLERANCE.matmulSwiglu },
      ];
    },
  };
}

export interface EmbeddingShape {
  vocab: number;
  dim: number;
  tokens: number;
  dtype: WeightDType;
}

const EMBEDDING_SHAPES: EmbeddingShape[] = [
  { vocab: 1, dim: 1, tokens: 1, dtype: 'f32' },
  // f32 and f16 tables of the same shapes.
  ...(['f32', 'f16'] as const).flatMap((dtype): EmbeddingShape[] => [
    { vocab: 17, dim: 3, tokens: 5, dtype },
    { vocab: 100, dim: 1003, tokens: 3, dtype },
    { vocab: 1003, dim: 17, tokens: 100, dtype },
  ]),
  // q8_0 (D a multiple of 32)
  { vocab: 3, dim: 32, tokens: 7, dtype: 'q8_0' },
  { vocab: 100, dim: 1024, tokens: 3, dtype: 'q8_0' },
  { vocab: 1003, dim: 96, tokens: 100, dtype: 'q8_0' },
  // The 4-6-bit block formats (D a multiple of 32 or 256)
  ...BLOCK_WEIGHT_DTYPES.flatMap((dtype): EmbeddingShape[] => [
    { vocab: 3, dim: 256, tokens: 7, dtype },
    { vocab: 1003, dim: 512, tokens: 50, dtype },
  ]),
];

export const embeddingLabel = (c: EmbeddingShape) => `V=${c.vocab} D=${c.dim} T=${c.tokens} ${c.dtype}`;

/** Random ids with the first and last rows always present, and repeats. */
function embeddingIds(rng: () => number, c: EmbeddingShape): Int32Array {
  const ids = randomInts(rng, c.tokens, 0, c.vocab);
  ids[0] = c.vocab - 1;
  if (c.tokens > 2) ids[c.tokens - 1] = 0;
  if (c.tokens > 3) ids[1] = ids[c.tokens - 2] as number;
  return ids;
}

/** Rows of a [V, D] table stored in c.dtype, gathered by `ids` (by default random, see embeddingIds). */
export function embeddingCase(c: EmbeddingShape, label: string, ids?: Int32Array): OpCase<'embedding'> {
  return {
    label,
    run: ({ rng, tensor }) => {
      const table = uniform(rng, c.vocab * c.dim);
      const tokenIds = ids ?? embeddingIds(rng, c);
      const y = embedding(tensor(table, [c.vocab, c.dim], c.dtype), tensor(tokenIds, [tokenIds.length], 'i32'));
      const expected = embeddingRef(asStored(table, c.dtype, c.dim), tokenIds, c.vocab, c.dim);
      return [
        { output: 'y', actual: y, shape: [tokenIds.length, c.dim], expected, tolerance: TOLERANCE.embedding[c.dtype] },
      ];
    },
  };
}

export const MATMUL_CASES = MATMUL_SHAPES.map(matmulCase);
export const MATMUL_SWIGLU_CASES = MATMUL_SWIGLU_SHAPES.map(matmulSwigluCase);
export const EMBEDDING_CASES = [
  ...EMBEDDING_SHAPES.map((c) => embeddingCase(c, embeddingLabel(c))),
  embeddingCase(
    { vocab: 10, dim: 17, tokens: 6, dtype: 'f32' },
    'V=10 D=17, ids outside 0..V-1 give zero rows',
    Int32Array.from([3, -1, 10, 9, -2147483648, 0]),
  ),
];

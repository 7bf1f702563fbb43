// matmul, matmulSwiglu and embedding with weights and tables split across bindings: the
// 'webgpu-split' backend splits any tensor over 4 KiB into row chunks. Activations here stay under
// 4 KiB (x and y at most 1024 f32), weights and tables are well over it, with a row count that the
// chunk size does not divide. The cases are the op suite's (test/cases/linear.ts).
import { describe, expect, it } from 'vitest';
import { blockElements, WEIGHT_DTYPES } from '../src/dtype.js';
import { fromArray } from '../src/node.js';
import {
  type EmbeddingShape,
  embeddingCase,
  embeddingLabel,
  type MatmulShape,
  matmulCase,
  matmulSwigluCase,
} from './cases/linear.js';
import { asStored, expectClose, randomInts, rngFor, SPLIT_BINDING_BYTES, uniform, useBackends } from './harness.js';
import { checkCase } from './op-case.js';

const backends = useBackends(['webgpu-split']);

describe('on webgpu-split (weights and tables split across 4 KiB bindings)', () => {
  const SPLIT_MATMUL: MatmulShape[] = [
    { M: 1, N: 100, K: 64, dtype: 'f32' }, // 25.6 KB weight, 16 rows a chunk
    { M: 3, N: 100, K: 17, dtype: 'f32' }, // rows of 68 bytes
    { M: 1, N: 100, K: 96, dtype: 'f16' },
    { M: 7, N: 100, K: 96, dtype: 'f16' },
    { M: 1, N: 100, K: 96, dtype: 'q8_0' },
    { M: 5, N: 100, K: 160, dtype: 'q8_0' },
    { M: 1, N: 100, K: 96, dtype: 'q4_0' },
    { M: 3, N: 100, K: 96, dtype: 'q4_1' },
    { M: 1, N: 100, K: 256, dtype: 'q4_k' },
    { M: 3, N: 100, K: 256, dtype: 'q5_k' },
    { M: 1, N: 100, K: 512, dtype: 'q6_k' },
  ];

  it.for(SPLIT_MATMUL)('matmul $M x $K times ($N x $K)ᵀ, $dtype weight', async (c, context) => {
    const backend = backends.get('webgpu-split', context);
    // The weight really is split, the activations really are not.
    const probe = fromArray(backend, new Float32Array(c.N * c.K), [c.N, c.K], c.dtype);
    expect((probe.storage as { chunks: unknown[] }).chunks.length).toBeGreaterThan(1);
    probe.dispose();
    expect(c.M * Math.max(c.K, c.N) * 4).toBeLessThanOrEqual(SPLIT_BINDING_BYTES);
    await checkCase('matmul', matmulCase(c), backend, 'webgpu-split');
  });

  it.for(SPLIT_MATMUL)('matmulSwiglu $M x $K, N=$N, $dtype weights', async (c, context) => {
    await checkCase('matmulSwiglu', matmulSwigluCase(c), backends.get('webgpu-split', context), 'webgpu-split');
  });

  const SPLIT_EMBEDDING: EmbeddingShape[] = [
    { vocab: 300, dim: 32, tokens: 31, dtype: 'f32' },
    { vocab: 300, dim: 17, tokens: 31, dtype: 'f32' },
    { vocab: 300, dim: 32, tokens: 31, dtype: 'f16' },
    { vocab: 300, dim: 64, tokens: 16, dtype: 'q8_0' },
    { vocab: 300, dim: 32, tokens: 31, dtype: 'q4_0' },
    { vocab: 300, dim: 64, tokens: 16, dtype: 'q4_1' },
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
    const label = `${embeddingLabel(c)}, every chunk's first and last row`;
    await checkCase('embedding', embeddingCase(c, label, ids.slice(0, fits)), backend, 'webgpu-split');
  });

  it('reads back a split tensor of every weight dtype unchanged', async (context) => {
    const backend = backends.get('webgpu-split', context);
    for (const dtype of WEIGHT_DTYPES) {
      const cols = blockElements(dtype) === 256 ? 256 : 96;
      const values = uniform(rngFor(`split round trip ${dtype}`), 100 * cols);
      const t = fromArray(backend, values, [100, cols], dtype);
      expectClose(
        await t.toFloat32(),
        asStored(values, dtype, cols),
        // Bit-exact, but for the block formats' float64 dequantisation rounded to f32 on reading back.
        { abs: 0, rel: blockElements(dtype) > 1 && dtype !== 'q8_0' ? 2 ** -24 : 0 },
        {
          op: 'fromArray/toFloat32',
          backend: 'webgpu-split',
          label: dtype,
          shape: [100, cols],
        },
      );
      t.dispose();
    }
  });
});

import type { WeightDType } from '../../dtype.js';
import { binding, chunksOf, grid, type WebGPUKernel, WORKGROUP } from '../../webgpu/kernel.js';
import { scalesWord } from '../../webgpu/weights.js';
import { EMBEDDING_PARAMS, embeddingShader } from './embedding.wgsl.js';

const shaders = new Map<WeightDType, string>();

export const embedding: WebGPUKernel<'embedding'> = ({ table, ids }, { y }, p, context) => {
  const { tokens, vocab, dim, tableDType } = p;
  let shader = shaders.get(tableDType);
  if (!shader) {
    shader = embeddingShader(tableDType);
    shaders.set(tableDType, shader);
  }
  const idsBinding = binding(ids, 'embedding');
  const yBinding = binding(y, 'embedding');
  return chunksOf(table).map((chunk) => ({
    shader: shader as string,
    bindings: [
      // Rounded up to 16 bytes: the block formats read their table as vec4s (see matmul's plan).
      { buffer: chunk.buffer, offset: 0, size: Math.min(chunk.buffer.size, Math.ceil(chunk.byteLength / 16) * 16) },
      idsBinding,
      yBinding,
    ],
    uniforms: EMBEDDING_PARAMS.values({
      tokens,
      dim,
      vocab,
      row_start: chunk.rowStart,
      row_count: chunk.rowCount,
      scales_word: scalesWord(tableDType, chunk.rowCount * dim),
    }),
    workgroups: grid(Math.ceil((tokens * dim) / WORKGROUP), context),
  }));
};

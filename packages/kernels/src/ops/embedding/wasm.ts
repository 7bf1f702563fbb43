import { type WasmKernel, WEIGHT_DTYPE_CODE } from '../../wasm/kernel.js';
import { weightPointers } from '../../wasm/weights.js';

export const embedding: WasmKernel<'embedding'> = (ctx, { table, ids }, { y }, { tokens, vocab, dim, tableDType }) => {
  const shape = [ctx.ptr(ids), ctx.ptr(y), tokens, vocab, dim];
  const work = tokens * dim;
  if (tableDType === 'f32') ctx.run('embeddingF32', [ctx.ptr(table), ...shape], work);
  else if (tableDType === 'f16') ctx.run('embeddingF16', [ctx.ptr(table), ...shape], work);
  else if (tableDType === 'q8_0') ctx.run('embeddingQ8_0', [...weightPointers(ctx, table), ...shape], work);
  else ctx.run('embeddingBlocks', [...weightPointers(ctx, table), ...shape, WEIGHT_DTYPE_CODE[tableDType]], work);
};

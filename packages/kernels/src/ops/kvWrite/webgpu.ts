import { binding, grid, type WebGPUKernel, WORKGROUP } from '../../webgpu/kernel.js';
import { KV_WRITE_PARAMS, kvWriteShader } from './kv-write.wgsl.js';

const KV_WRITE = kvWriteShader(false);
const KV_WRITE_PER_ROW = kvWriteShader(true);

export const kvWrite: WebGPUKernel<'kvWrite'> = ({ values, rows }, { cache }, p, context) => {
  const row = p.kvHeads * p.headDim;
  const size = p.batch * p.tokens * row;
  return [
    {
      shader: rows ? KV_WRITE_PER_ROW : KV_WRITE,
      bindings: [binding(values, 'kvWrite'), ...(rows ? [binding(rows, 'kvWrite')] : []), binding(cache, 'kvWrite')],
      uniforms: KV_WRITE_PARAMS.values({
        tokens: p.tokens,
        row,
        start_pos: p.startPos,
        slot: p.slot,
        max_seq_len: p.maxSeqLen,
        size,
      }),
      workgroups: grid(Math.ceil(size / WORKGROUP), context),
    },
  ];
};

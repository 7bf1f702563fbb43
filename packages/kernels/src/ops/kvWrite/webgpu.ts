import { binding, grid, type WebGPUKernel, WORKGROUP } from '../../webgpu/kernel.js';
import { KV_WRITE, KV_WRITE_PARAMS } from './kv-write.wgsl.js';

export const kvWrite: WebGPUKernel<'kvWrite'> = ({ values }, { cache }, p, context) => {
  const row = p.kvHeads * p.headDim;
  const size = p.batch * p.tokens * row;
  return [
    {
      shader: KV_WRITE,
      bindings: [binding(values, 'kvWrite'), binding(cache, 'kvWrite')],
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

import { binding, grid, type WebGPUKernel, WORKGROUP } from '../../webgpu/kernel.js';
import { ROPE, ROPE_PARAMS } from './rope.wgsl.js';

export const rope: WebGPUKernel<'rope'> = ({ x, table }, { y }, p, context) => {
  const pairs = (p.batch * p.tokens * p.heads * p.headDim) / 2;
  return [
    {
      shader: ROPE,
      bindings: [binding(x, 'rope'), binding(table, 'rope'), binding(y, 'rope')],
      uniforms: ROPE_PARAMS.values({
        tokens: p.tokens,
        heads: p.heads,
        head_dim: p.headDim,
        start_pos: p.startPos,
        pairs,
        interleaved: p.layout === 'interleaved',
        sin_sign: p.inverse ? -1 : 1,
      }),
      workgroups: grid(Math.ceil(pairs / WORKGROUP), context),
    },
  ];
};

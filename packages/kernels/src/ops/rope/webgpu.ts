import { binding, grid, type WebGPUKernel, WORKGROUP } from '../../webgpu/kernel.js';
import { ROPE_PARAMS, ropeShader } from './rope.wgsl.js';

const ROPE = ropeShader(false);
const ROPE_PER_ROW = ropeShader(true);

export const rope: WebGPUKernel<'rope'> = ({ x, table, rows }, { y }, p, context) => {
  const pairs = (p.batch * p.tokens * p.heads * p.headDim) / 2;
  return [
    {
      shader: rows ? ROPE_PER_ROW : ROPE,
      bindings: [
        binding(x, 'rope'),
        binding(table, 'rope'),
        ...(rows ? [binding(rows, 'rope')] : []),
        binding(y, 'rope'),
      ],
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

import { binding, grid, type WebGPUKernel, WORKGROUP } from '../../webgpu/kernel.js';
import { EMBEDDING_BACKWARD, EMBEDDING_BACKWARD_PARAMS } from './embedding-backward.wgsl.js';

export const embeddingBackward: WebGPUKernel<'embeddingBackward'> = ({ ids, dY }, { dTable }, p, context) => {
  const size = p.vocab * p.dim;
  return [
    {
      shader: EMBEDDING_BACKWARD,
      bindings: [ids, dY, dTable].map((t) => binding(t, 'embeddingBackward')),
      uniforms: EMBEDDING_BACKWARD_PARAMS.values({ tokens: p.tokens, dim: p.dim, size, accumulate: p.accumulate }),
      workgroups: grid(Math.ceil(size / WORKGROUP), context),
    },
  ];
};

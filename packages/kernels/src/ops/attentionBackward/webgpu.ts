import { KernelError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import { binding, grid, type WebGPUKernel } from '../../webgpu/kernel.js';
import { ATTENTION_BACKWARD_PARAMS, DKV, DQ, MAX_HEAD_DIM, STATS } from './attention-backward.wgsl.js';

export const attentionBackward: WebGPUKernel<'attentionBackward'> = (
  { q, k, v, dOut },
  { dQ, dK, dV, stats },
  p,
  context,
) => {
  if (p.headDim > MAX_HEAD_DIM) {
    throw new KernelError(
      `attentionBackward: head_dim ${p.headDim} exceeds the WebGPU kernel's maximum of ${MAX_HEAD_DIM}`,
    );
  }
  const inputs = [q, k, v, dOut].map((t) => binding(t, 'attentionBackward'));
  const out = (t: Tensor) => binding(t, 'attentionBackward');
  const queries = p.batch * p.tokens * p.heads;
  const keys = p.batch * p.tokens * p.kvHeads;
  const uniforms = (count: number) =>
    ATTENTION_BACKWARD_PARAMS.values({
      tokens: p.tokens,
      heads: p.heads,
      kv_heads: p.kvHeads,
      head_dim: p.headDim,
      scale: p.scale,
      count,
    });
  return [
    {
      shader: STATS,
      bindings: [...inputs, out(stats)],
      uniforms: uniforms(queries),
      workgroups: grid(queries, context),
    },
    {
      shader: DQ,
      bindings: [...inputs, out(stats), out(dQ)],
      uniforms: uniforms(queries),
      workgroups: grid(queries, context),
    },
    {
      shader: DKV,
      bindings: [...inputs, out(stats), out(dK), out(dV)],
      uniforms: uniforms(keys),
      workgroups: grid(keys, context),
    },
  ];
};

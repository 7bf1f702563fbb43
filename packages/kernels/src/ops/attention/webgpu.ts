import { KernelError } from '../../errors.js';
import { binding, grid, type WebGPUKernel } from '../../webgpu/kernel.js';
import { ATTENTION_PARAMS, attentionShader, BLOCK, COMBINE, COMBINE_PARAMS, MAX_HEAD_DIM } from './attention.wgsl.js';

/** Keys per split when a query's keys are spread over several workgroups (a multiple of BLOCK). */
const SPLIT_KEYS = 2 * BLOCK;
/** Split only while there are fewer queries than this: enough workgroups to fill a GPU already. */
const SPLIT_BELOW_QUERIES = 512;
const MAX_SPLITS = 64;

/** The shaders by [split][perRow]. */
const SHADERS = [false, true].map((split) => [false, true].map((perRow) => attentionShader(split, perRow)));

export const attention: WebGPUKernel<'attention'> = ({ q, kCache, vCache, rows }, { y }, p, context) => {
  if (p.headDim > MAX_HEAD_DIM) {
    throw new KernelError(`attention: head_dim ${p.headDim} exceeds the WebGPU kernel's maximum of ${MAX_HEAD_DIM}`);
  }
  const queries = p.batch * p.tokens * p.heads;
  // Decode has one query per head: a workgroup each would leave most of a GPU idle over a long
  // cache, so the keys are split over several workgroups (flash-decoding) and merged after. With
  // rows, startPos is the largest row's: shorter rows leave their last splits empty (they add nothing).
  const keys = p.startPos + p.tokens;
  const splits = queries < SPLIT_BELOW_QUERIES ? Math.min(MAX_SPLITS, Math.ceil(keys / SPLIT_KEYS)) : 1;
  const splitKeys = splits === 1 ? keys : Math.ceil(keys / splits / BLOCK) * BLOCK;
  const inputs = [
    binding(q, 'attention'),
    binding(kCache, 'attention'),
    binding(vCache, 'attention'),
    ...(rows ? [binding(rows, 'attention')] : []),
  ];
  const [single, split] = [0, 1].map((s) => (SHADERS[s] as string[])[rows ? 1 : 0] as string);
  const uniforms = ATTENTION_PARAMS.values({
    tokens: p.tokens,
    heads: p.heads,
    kv_heads: p.kvHeads,
    head_dim: p.headDim,
    start_pos: p.startPos,
    slot: p.slot,
    max_seq_len: p.maxSeqLen,
    scale: p.scale,
    queries,
    splits,
    split_keys: splitKeys,
  });
  const out = binding(y, 'attention');
  if (splits === 1) {
    return [{ shader: single as string, bindings: [...inputs, out], uniforms, workgroups: grid(queries, context) }];
  }
  const partials = context.scratch(queries * splits * (p.headDim + 2) * 4);
  return [
    { shader: split as string, bindings: [...inputs, partials], uniforms, workgroups: grid(queries * splits, context) },
    {
      shader: COMBINE,
      bindings: [partials, out],
      uniforms: COMBINE_PARAMS.values({ queries, splits, head_dim: p.headDim }),
      workgroups: grid(queries, context),
    },
  ];
};

import { ModelError } from '../errors.js';

/** Hugging Face (transformers) tensor names and their Meta equivalents. */

const LAYER_TENSOR_NAMES: Readonly<Record<string, string>> = {
  'self_attn.q_proj.weight': 'attention.wq.weight',
  'self_attn.k_proj.weight': 'attention.wk.weight',
  'self_attn.v_proj.weight': 'attention.wv.weight',
  'self_attn.o_proj.weight': 'attention.wo.weight',
  'mlp.gate_proj.weight': 'feed_forward.w1.weight',
  'mlp.up_proj.weight': 'feed_forward.w3.weight',
  'mlp.down_proj.weight': 'feed_forward.w2.weight',
  'input_layernorm.weight': 'attention_norm.weight',
  'post_attention_layernorm.weight': 'ffn_norm.weight',
};

const TOP_LEVEL_TENSOR_NAMES: Readonly<Record<string, string>> = {
  'model.embed_tokens.weight': 'tok_embeddings.weight',
  'model.norm.weight': 'norm.weight',
  'lm_head.weight': 'output.weight',
};

/** `0` or a number without leading zeros, so each layer has exactly one spelling. */
const LAYER_PREFIX = /^model\.layers\.(0|[1-9][0-9]*)\.(.+)$/;

/**
 * Meta's name for a transformers tensor name; undefined for tensors to skip (old checkpoints store
 * RoPE's `inv_freq`, which is recomputed from the config). Unknown names throw, which is how a
 * non-Llama checkpoint is caught.
 */
export function metaNameForHF(hfName: string, file: string): string | undefined {
  if (Object.hasOwn(TOP_LEVEL_TENSOR_NAMES, hfName)) return TOP_LEVEL_TENSOR_NAMES[hfName];
  const layerMatch = LAYER_PREFIX.exec(hfName);
  if (layerMatch) {
    const [, layer, rest] = layerMatch as unknown as [string, string, string];
    if (rest === 'self_attn.rotary_emb.inv_freq') return undefined;
    if (Object.hasOwn(LAYER_TENSOR_NAMES, rest)) return `layers.${layer}.${LAYER_TENSOR_NAMES[rest]}`;
  }
  throw new ModelError(
    `${file}: unknown tensor "${hfName}"; expected the tensor names of a Hugging Face Llama checkpoint ` +
      '(model.embed_tokens.weight, model.layers.{i}.self_attn.q_proj.weight, …, lm_head.weight)',
  );
}

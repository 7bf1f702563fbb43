import { ModelError } from '../../errors.js';

/** llama.cpp's tensor names for the `llama` architecture (gguf-py's MODEL_TENSOR names) and Meta's. */

const TOP_LEVEL_TENSOR_NAMES: Readonly<Record<string, string>> = {
  'token_embd.weight': 'tok_embeddings.weight',
  'output_norm.weight': 'norm.weight',
  'output.weight': 'output.weight',
};

const LAYER_TENSOR_NAMES: Readonly<Record<string, string>> = {
  'attn_norm.weight': 'attention_norm.weight',
  'attn_q.weight': 'attention.wq.weight',
  'attn_k.weight': 'attention.wk.weight',
  'attn_v.weight': 'attention.wv.weight',
  'attn_output.weight': 'attention.wo.weight',
  'ffn_norm.weight': 'ffn_norm.weight',
  'ffn_gate.weight': 'feed_forward.w1.weight',
  'ffn_up.weight': 'feed_forward.w3.weight',
  'ffn_down.weight': 'feed_forward.w2.weight',
};

/** Llama 3.1's RoPE scaling as llama.cpp stores it: one divisor per frequency (not a weight). */
export const ROPE_FREQS_TENSOR = 'rope_freqs.weight';

/** `0` or a number without leading zeros, so each layer has exactly one spelling. */
const LAYER_PREFIX = /^blk\.(0|[1-9][0-9]*)\.(.+)$/;

/** Meta's name for a GGUF tensor name; unknown names throw (a tensor this model has no use for). */
export function metaNameForGGUF(name: string, path: string): string {
  if (Object.hasOwn(TOP_LEVEL_TENSOR_NAMES, name)) return TOP_LEVEL_TENSOR_NAMES[name] as string;
  const layerMatch = LAYER_PREFIX.exec(name);
  if (layerMatch) {
    const [, layer, rest] = layerMatch as unknown as [string, string, string];
    if (Object.hasOwn(LAYER_TENSOR_NAMES, rest)) return `layers.${layer}.${LAYER_TENSOR_NAMES[rest]}`;
  }
  throw new ModelError(
    `${path}: unknown tensor "${name}"; expected the tensors of a llama model ` +
      '(token_embd.weight, blk.{i}.attn_q.weight, …, blk.{i}.ffn_down.weight, output_norm.weight, output.weight, rope_freqs.weight)',
  );
}

/** The GGUF name of a Meta tensor name (for messages about tensors that are missing). */
export function ggufNameForMeta(metaName: string): string {
  for (const [gguf, meta] of Object.entries(TOP_LEVEL_TENSOR_NAMES)) if (meta === metaName) return gguf;
  const match = /^layers\.(\d+)\.(.+)$/.exec(metaName);
  if (match) {
    for (const [gguf, meta] of Object.entries(LAYER_TENSOR_NAMES)) {
      if (meta === match[2]) return `blk.${match[1]}.${gguf}`;
    }
  }
  return metaName;
}

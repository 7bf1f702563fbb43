import type { ModelArgs } from './args.js';
import type { LayerWeights } from './weights.js';

/** Each layer's tensors: their field in LayerWeights and their Meta name after `layers.N.`. */
export const LAYER_TENSORS = {
  attentionNorm: 'attention_norm.weight',
  wq: 'attention.wq.weight',
  wk: 'attention.wk.weight',
  wv: 'attention.wv.weight',
  wo: 'attention.wo.weight',
  ffnNorm: 'ffn_norm.weight',
  w1: 'feed_forward.w1.weight',
  w2: 'feed_forward.w2.weight',
  w3: 'feed_forward.w3.weight',
} as const satisfies Record<keyof LayerWeights, string>;

/** The tensors outside the layers, by Meta name, with their shapes. */
export function outerShapes(args: ModelArgs): [string, number[]][] {
  const { dim, vocabSize } = args;
  return [
    ['tok_embeddings.weight', [vocabSize, dim]],
    ['norm.weight', [dim]],
    ['output.weight', [vocabSize, dim]],
  ];
}

/** One layer's tensors (every layer's are alike), by Meta name after `layers.N.`, with their shapes. */
export function layerShapes(args: ModelArgs): [string, number[]][] {
  const { dim, nHeads, nKvHeads, headDim, ffnHiddenDim } = args;
  const shapes: Record<keyof LayerWeights, number[]> = {
    attentionNorm: [dim],
    wq: [nHeads * headDim, dim],
    wk: [nKvHeads * headDim, dim],
    wv: [nKvHeads * headDim, dim],
    wo: [dim, nHeads * headDim],
    ffnNorm: [dim],
    w1: [ffnHiddenDim, dim],
    w2: [dim, ffnHiddenDim],
    w3: [ffnHiddenDim, dim],
  };
  return Object.entries(LAYER_TENSORS).map(([key, suffix]) => [suffix, shapes[key as keyof LayerWeights]]);
}

/**
 * Every tensor a checkpoint of these args must hold, by Meta name, with its shape: 9 × n_layers + 3
 * entries, so only for sizes already checked (checkModelFits), never for an absurd n_layers.
 */
export function expectedShapes(args: ModelArgs): Map<string, number[]> {
  const shapes = new Map(outerShapes(args));
  const layer = layerShapes(args);
  for (let i = 0; i < args.nLayers; i++) {
    for (const [suffix, shape] of layer) shapes.set(`layers.${i}.${suffix}`, shape);
  }
  return shapes;
}

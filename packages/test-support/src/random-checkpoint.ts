import { seededRandom } from './random.js';

/** The sizes of a Llama whose weights randomLlamaTensors makes (Meta's tensor names and layout). */
export interface RandomLlamaSizes {
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  ffnHiddenDim: number;
}

/** One tensor of a random checkpoint, f32, row-major. */
export interface RandomTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/**
 * Seeded random weights for a whole Llama, named and shaped as Meta's `consolidated.00.pth` holds them,
 * for tests that write a checkpoint (with @llama-ts/model's writer) and compare the model with a
 * reference. Matrices are uniform in ±scale/√fan-in, with query and key rows three times larger so
 * attention is sharp enough for positions (RoPE) to matter; norms are near 1.
 */
export function randomLlamaTensors(sizes: RandomLlamaSizes, seed = 1): RandomTensor[] {
  const random = seededRandom(seed);
  const headDim = sizes.dim / sizes.nHeads;
  const tensors: RandomTensor[] = [];
  const matrix = (name: string, rows: number, cols: number, scale = 1) => {
    const bound = scale / Math.sqrt(cols);
    const values = Float32Array.from({ length: rows * cols }, () => (2 * random() - 1) * bound);
    tensors.push({ name, shape: [rows, cols], values });
  };
  const norm = (name: string) => {
    tensors.push({
      name,
      shape: [sizes.dim],
      values: Float32Array.from({ length: sizes.dim }, () => 0.8 + 0.4 * random()),
    });
  };
  matrix('tok_embeddings.weight', sizes.vocabSize, sizes.dim, Math.sqrt(sizes.dim));
  for (let layer = 0; layer < sizes.nLayers; layer++) {
    const p = `layers.${layer}`;
    matrix(`${p}.attention.wq.weight`, sizes.nHeads * headDim, sizes.dim, 3);
    matrix(`${p}.attention.wk.weight`, sizes.nKvHeads * headDim, sizes.dim, 3);
    matrix(`${p}.attention.wv.weight`, sizes.nKvHeads * headDim, sizes.dim);
    matrix(`${p}.attention.wo.weight`, sizes.dim, sizes.nHeads * headDim);
    matrix(`${p}.feed_forward.w1.weight`, sizes.ffnHiddenDim, sizes.dim);
    matrix(`${p}.feed_forward.w2.weight`, sizes.dim, sizes.ffnHiddenDim);
    matrix(`${p}.feed_forward.w3.weight`, sizes.ffnHiddenDim, sizes.dim);
    norm(`${p}.attention_norm.weight`);
    norm(`${p}.ffn_norm.weight`);
  }
  norm('norm.weight');
  matrix('output.weight', sizes.vocabSize, sizes.dim);
  return tensors;
}

/**
 * A float64 Llama forward pass written straight from Meta's model.py, for tests: tensors by Meta's
 * names, interleaved RoPE pairs with base `theta`, grouped-query attention with a causal mask.
 * Slow and simple on purpose, so that it shares nothing with the package's forward.
 */
export interface ReferenceSizes {
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  ffnHiddenDim: number;
  normEps: number;
  ropeTheta: number;
}

/** A weight's values: f32 as stored, or float64 as a quantised tensor dequantises exactly. */
export type ReferenceWeight = Float32Array | Float64Array;

export interface ReferenceOptions {
  /**
   * What each projection's input becomes before the product (default: itself): e.g. rounded to
   * 8-bit blocks, as llama.cpp's CPU backend does to the activations of a quantised matmul, to see
   * how far that moves the log-probs.
   */
  activations?: (x: Float64Array) => Float64Array;
}

/** Logits of every position, [tokens.length][vocabSize]. */
export function referenceLogits(
  weights: ReadonlyMap<string, ReferenceWeight>,
  sizes: ReferenceSizes,
  tokens: readonly number[],
  options: ReferenceOptions = {},
): Float64Array[] {
  const w = (name: string) => {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`reference: no tensor ${name}`);
    return tensor;
  };
  const { dim, nHeads, nKvHeads } = sizes;
  const headDim = dim / nHeads;
  const matVec = (m: ReferenceWeight, input: Float64Array, rows: number) => {
    const x = options.activations ? options.activations(input) : input;
    const cols = x.length;
    const y = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += (m[r * cols + c] as number) * (x[c] as number);
      y[r] = sum;
    }
    return y;
  };
  const rmsNorm = (x: Float64Array, weight: ReferenceWeight) => {
    let sum = 0;
    for (const v of x) sum += v * v;
    const scale = 1 / Math.sqrt(sum / x.length + sizes.normEps);
    return x.map((v, i) => v * scale * (weight[i] as number));
  };
  const rope = (x: Float64Array, pos: number) => {
    for (let h = 0; h < x.length / headDim; h++) {
      for (let j = 0; j < headDim / 2; j++) {
        const angle = pos * sizes.ropeTheta ** (-(2 * j) / headDim);
        const i = h * headDim + 2 * j;
        const [a, b] = [x[i] as number, x[i + 1] as number];
        x[i] = a * Math.cos(angle) - b * Math.sin(angle);
        x[i + 1] = a * Math.sin(angle) + b * Math.cos(angle);
      }
    }
    return x;
  };

  const embeddings = w('tok_embeddings.weight');
  let hidden = tokens.map((t) => Float64Array.from(embeddings.subarray(t * dim, (t + 1) * dim)));
  for (let layer = 0; layer < sizes.nLayers; layer++) {
    const p = `layers.${layer}`;
    const normed = hidden.map((h) => rmsNorm(h, w(`${p}.attention_norm.weight`)));
    const q = normed.map((x, pos) => rope(matVec(w(`${p}.attention.wq.weight`), x, nHeads * headDim), pos));
    const k = normed.map((x, pos) => rope(matVec(w(`${p}.attention.wk.weight`), x, nKvHeads * headDim), pos));
    const v = normed.map((x) => matVec(w(`${p}.attention.wv.weight`), x, nKvHeads * headDim));
    hidden = hidden.map((h, pos) => {
      const attended = new Float64Array(nHeads * headDim);
      for (let head = 0; head < nHeads; head++) {
        const kv = Math.floor(head / (nHeads / nKvHeads));
        const scores = Array.from({ length: pos + 1 }, (_, s) => {
          let dot = 0;
          for (let d = 0; d < headDim; d++) {
            dot += (q[pos]?.[head * headDim + d] as number) * (k[s]?.[kv * headDim + d] as number);
          }
          return dot / Math.sqrt(headDim);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let s = 0; s <= pos; s++) {
          for (let d = 0; d < headDim; d++) {
            attended[head * headDim + d] =
              (attended[head * headDim + d] as number) +
              ((exps[s] as number) / total) * (v[s]?.[kv * headDim + d] as number);
          }
        }
      }
      const out = matVec(w(`${p}.attention.wo.weight`), attended, dim);
      const afterAttention = h.map((value, i) => value + (out[i] as number));
      const x = rmsNorm(afterAttention, w(`${p}.ffn_norm.weight`));
      const gate = matVec(w(`${p}.feed_forward.w1.weight`), x, sizes.ffnHiddenDim);
      const up = matVec(w(`${p}.feed_forward.w3.weight`), x, sizes.ffnHiddenDim);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] as number));
      const down = matVec(w(`${p}.feed_forward.w2.weight`), act, dim);
      return afterAttention.map((value, i) => value + (down[i] as number));
    });
  }
  return hidden.map((h) => matVec(w('output.weight'), rmsNorm(h, w('norm.weight')), sizes.vocabSize));
}

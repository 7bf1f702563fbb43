import {
  add,
  attention,
  type Backend,
  embedding,
  fromArray,
  kvWrite,
  matmul,
  matmulSwiglu,
  rmsNorm,
  rope,
  ropeTable,
  type Tensor,
  zeros,
} from '@llama-ts/kernels';
import type { ModelArgs } from './args.js';
import { ModelError } from './errors.js';
import { ropeFrequencies } from './rope.js';
import type { LayerWeights, LlamaWeights } from './weights.js';

export interface ForwardOptions {
  /** Logits for the last position of each sequence (default, as generation needs) or every position. */
  logits?: 'last' | 'all';
  /** KV cache slot of the first sequence; sequence b uses slot + b. Default 0. */
  slot?: number;
}

/**
 * The Llama 3 decoder over @llama-ts/kernels: the same code on every backend. A KV cache with
 * `maxBatchSize` slots of `maxSeqLen` positions lives on the device; `forward` appends the given
 * tokens at `startPos` (prefill many, then decode one at a time) and returns logits.
 */
export class Transformer {
  readonly #kCache: Tensor[];
  readonly #vCache: Tensor[];
  readonly #rope: Tensor;
  readonly #ownsBackend: boolean;

  constructor(
    readonly args: ModelArgs,
    readonly weights: LlamaWeights,
    readonly backend: Backend,
    options: { ownsBackend?: boolean } = {},
  ) {
    this.#ownsBackend = options.ownsBackend ?? false;
    const cacheShape = [args.maxBatchSize, args.maxSeqLen, args.nKvHeads, args.headDim];
    this.#kCache = weights.layers.map(() => zeros(backend, cacheShape));
    this.#vCache = weights.layers.map(() => zeros(backend, cacheShape));
    // Angles for every position the cache can hold, built in float64 once.
    this.#rope = ropeTable(backend, {
      frequencies: ropeFrequencies(args.headDim, args.ropeTheta, args.ropeScaling, args.ropeFreqFactors),
      positions: args.maxSeqLen,
    });
  }

  /**
   * Runs `tokens` (one equal-length row per sequence) at positions startPos.. and returns logits,
   * f32, [B, vocab] for 'last' or [B × T, vocab] for 'all'.
   */
  async forward(
    tokens: readonly (readonly number[])[],
    startPos: number,
    options: ForwardOptions = {},
  ): Promise<Float32Array> {
    const logits = this.forwardTensor(tokens, startPos, options);
    try {
      return await logits.toFloat32();
    } finally {
      logits.dispose();
    }
  }

  /** As `forward`, but leaves the logits on the device (for sampling there); the caller disposes them. */
  forwardTensor(tokens: readonly (readonly number[])[], startPos: number, options: ForwardOptions = {}): Tensor {
    const { batch, length } = this.#check(tokens, startPos, options.slot ?? 0);
    const at = { startPos, slot: options.slot ?? 0 };
    const ids = fromArray(this.backend, tokens.flat(), [batch * length], 'i32');
    let h = embedding(this.weights.tokEmbeddings, ids);
    ids.dispose();
    this.weights.layers.forEach((layer, i) => {
      const afterAttention = this.#attentionBlock(layer, h, batch, length, i, at);
      h.dispose();
      h = this.#feedForwardBlock(layer, afterAttention);
      afterAttention.dispose();
    });
    let last = h;
    if (options.logits !== 'all' && length > 1) {
      const rows = Array.from({ length: batch }, (_, b) => b * length + length - 1);
      const lastIds = fromArray(this.backend, rows, [batch], 'i32');
      last = embedding(h, lastIds); // a row gather
      lastIds.dispose();
      h.dispose();
    }
    const normed = rmsNorm(last, this.weights.norm, this.args.normEps);
    last.dispose();
    const logits = matmul(normed, this.weights.output);
    normed.dispose();
    return logits;
  }

  /** Frees the weights, the cache and the RoPE table (and the backend, when the model created it). */
  dispose(): void {
    for (const t of [...this.#kCache, ...this.#vCache, this.#rope]) t.dispose();
    const { tokEmbeddings, norm, output, layers } = this.weights;
    for (const t of [tokEmbeddings, norm, output, ...layers.flatMap((l) => Object.values(l) as Tensor[])]) t.dispose();
    if (this.#ownsBackend) this.backend.destroy();
  }

  #attentionBlock(
    layer: LayerWeights,
    h: Tensor,
    batch: number,
    length: number,
    index: number,
    at: { startPos: number; slot: number },
  ): Tensor {
    const { nHeads, nKvHeads, headDim, normEps, ropeLayout } = this.args;
    const x = rmsNorm(h, layer.attentionNorm, normEps);
    const project = (w: Tensor, heads: number) => {
      const flat = matmul(x, w);
      return { flat, heads: flat.reshape([batch, length, heads, headDim]) };
    };
    const q = project(layer.wq, nHeads);
    const k = project(layer.wk, nKvHeads);
    const v = project(layer.wv, nKvHeads);
    x.dispose();
    const options = { startPos: at.startPos, layout: ropeLayout };
    const qRotated = rope(q.heads, this.#rope, options);
    const kRotated = rope(k.heads, this.#rope, options);
    // Keys are rotated before they enter the cache, as in the reference.
    kvWrite(this.#kCache[index] as Tensor, kRotated, at);
    kvWrite(this.#vCache[index] as Tensor, v.heads, at);
    const attended = attention(qRotated, this.#kCache[index] as Tensor, this.#vCache[index] as Tensor, at);
    for (const t of [q.flat, k.flat, v.flat, qRotated, kRotated]) t.dispose();
    const out = matmul(attended.reshape([batch * length, nHeads * headDim]), layer.wo);
    attended.dispose();
    const residual = add(h, out);
    out.dispose();
    return residual;
  }

  #feedForwardBlock(layer: LayerWeights, h: Tensor): Tensor {
    const x = rmsNorm(h, layer.ffnNorm, this.args.normEps);
    const gated = matmulSwiglu(x, layer.w1, layer.w3);
    x.dispose();
    const out = matmul(gated, layer.w2);
    gated.dispose();
    const residual = add(h, out);
    out.dispose();
    return residual;
  }

  #check(tokens: readonly (readonly number[])[], startPos: number, slot: number): { batch: number; length: number } {
    const { maxBatchSize, maxSeqLen, vocabSize } = this.args;
    if (!Array.isArray(tokens) || tokens.length === 0)
      throw new ModelError('forward: tokens must be a non-empty array of token rows');
    const length = (tokens[0] as readonly number[]).length;
    if (length === 0) throw new ModelError('forward: token rows must not be empty');
    tokens.forEach((row: readonly number[], b: number) => {
      if (row.length !== length)
        throw new ModelError(
          `forward: tokens[${b}] has ${row.length} tokens, tokens[0] has ${length}; rows must be equally long`,
        );
      row.forEach((id: number, t: number) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new ModelError(`forward: tokens[${b}][${t}] is ${id}; expected a token id in 0..${vocabSize - 1}`);
        }
      });
    });
    if (!Number.isInteger(slot) || slot < 0 || slot + tokens.length > maxBatchSize) {
      throw new ModelError(
        `forward: ${tokens.length} sequence(s) from slot ${slot} do not fit maxBatchSize ${maxBatchSize}`,
      );
    }
    if (!Number.isInteger(startPos) || startPos < 0 || startPos + length > maxSeqLen) {
      throw new ModelError(
        `forward: positions ${startPos}..${startPos + length - 1} do not fit maxSeqLen ${maxSeqLen}`,
      );
    }
    return { batch: tokens.length, length };
  }
}

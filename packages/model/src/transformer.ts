import {
  add,
  attention,
  type Backend,
  type CachePosition,
  CacheRows,
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

/** One sequence of a `forwardBatch` call: its new tokens, its KV-cache slot and the position of its first new token. */
export interface BatchRow {
  tokens: readonly number[];
  slot: number;
  startPos: number;
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
    const { batch, length } = this.#check('forward', tokens, startPos, options.slot ?? 0);
    return this.#run(tokens, batch, length, { startPos, slot: options.slot ?? 0 }, options.logits ?? 'last');
  }

  /**
   * Continuous batching: each row is a sequence in its own cache slot at its own position (rows
   * in distinct slots, equally long: many sequences decoding one token each, or one sequence's
   * prefill chunk). Returns f32 logits, [B, vocab] for 'last' or [B × T, vocab] for 'all'.
   */
  async forwardBatch(rows: readonly BatchRow[], options: { logits?: 'last' | 'all' } = {}): Promise<Float32Array> {
    const logits = this.forwardBatchTensor(rows, options);
    try {
      return await logits.toFloat32();
    } finally {
      logits.dispose();
    }
  }

  /** As `forwardBatch`, but leaves the logits on the device; the caller disposes them. */
  forwardBatchTensor(rows: readonly BatchRow[], options: { logits?: 'last' | 'all' } = {}): Tensor {
    if (!Array.isArray(rows) || rows.length === 0) {
      throw new ModelError('forwardBatch: rows must be a non-empty array of { tokens, slot, startPos }');
    }
    const tokens = rows.map((row) => row.tokens);
    const { batch, length } = this.#check('forwardBatch', tokens, 0, 0, rows);
    // One upload of the rows' (slot, startPos) for every layer's rope, kvWrite and attention.
    const at = new CacheRows(
      this.backend,
      rows.map(({ slot, startPos }) => ({ slot, startPos })),
    );
    try {
      return this.#run(tokens, batch, length, at, options.logits ?? 'last');
    } finally {
      at.dispose();
    }
  }

  #run(
    tokens: readonly (readonly number[])[],
    batch: number,
    length: number,
    at: CachePosition | CacheRows,
    logitsFor: 'last' | 'all',
  ): Tensor {
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
    if (logitsFor !== 'all' && length > 1) {
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
    at: CachePosition | CacheRows,
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
    const options =
      at instanceof CacheRows ? { rows: at, layout: ropeLayout } : { startPos: at.startPos, layout: ropeLayout };
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

  /** Checks the rows, and the window startPos.. of slots slot.. or, given `rows`, each row's slot and positions. */
  #check(
    op: 'forward' | 'forwardBatch',
    tokens: readonly (readonly number[])[],
    startPos: number,
    slot: number,
    rows?: readonly BatchRow[],
  ): { batch: number; length: number } {
    const { maxBatchSize, maxSeqLen, vocabSize } = this.args;
    if (!Array.isArray(tokens) || tokens.length === 0)
      throw new ModelError(`${op}: tokens must be a non-empty array of token rows`);
    const name = (b: number) => (rows ? `rows[${b}].tokens` : `tokens[${b}]`);
    tokens.forEach((row, b) => {
      if (!Array.isArray(row)) throw new ModelError(`${op}: ${name(b)} must be an array of token ids`);
    });
    const length = (tokens[0] as readonly number[]).length;
    if (length === 0) throw new ModelError(`${op}: token rows must not be empty`);
    tokens.forEach((row: readonly number[], b: number) => {
      if (row.length !== length)
        throw new ModelError(
          `${op}: ${name(b)} has ${row.length} tokens, ${name(0)} has ${length}; rows must be equally long`,
        );
      row.forEach((id: number, t: number) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new ModelError(`${op}: ${name(b)}[${t}] is ${id}; expected a token id in 0..${vocabSize - 1}`);
        }
      });
    });
    if (rows) {
      this.#checkRows(rows, length);
      return { batch: tokens.length, length };
    }
    if (!Number.isInteger(slot) || slot < 0 || slot + tokens.length > maxBatchSize) {
      throw new ModelError(
        `${op}: ${tokens.length} sequence(s) from slot ${slot} do not fit maxBatchSize ${maxBatchSize}`,
      );
    }
    if (!Number.isInteger(startPos) || startPos < 0 || startPos + length > maxSeqLen) {
      throw new ModelError(`${op}: positions ${startPos}..${startPos + length - 1} do not fit maxSeqLen ${maxSeqLen}`);
    }
    return { batch: tokens.length, length };
  }

  #checkRows(rows: readonly BatchRow[], length: number): void {
    const { maxBatchSize, maxSeqLen } = this.args;
    const slots = new Set<number>();
    rows.forEach(({ slot, startPos }, b) => {
      if (!Number.isInteger(slot) || slot < 0 || slot >= maxBatchSize) {
        throw new ModelError(`forwardBatch: rows[${b}].slot is ${slot}; expected a slot in 0..${maxBatchSize - 1}`);
      }
      if (slots.has(slot)) throw new ModelError(`forwardBatch: rows[${b}].slot ${slot} is used by another row`);
      slots.add(slot);
      if (!Number.isInteger(startPos) || startPos < 0 || startPos + length > maxSeqLen) {
        throw new ModelError(
          `forwardBatch: rows[${b}] positions ${startPos}..${startPos + length - 1} do not fit maxSeqLen ${maxSeqLen}`,
        );
      }
    });
  }
}

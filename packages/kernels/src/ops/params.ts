/**
 * Every op's contract, in one place: inputs, outputs, parameters. The front-end functions in this
 * folder check shapes and fill these in; each backend's kernel for the op trusts them.
 * Shapes are row-major; activations are f32, token ids i32.
 */
import type { WeightDType } from '../dtype.js';

export interface OpParams {
  /**
   * y = x · wᵀ. inputs [x f32 [M, K], w weight [N, K]]; outputs [y f32 [M, N]].
   * Accumulates in f32. M = 1 is the decode (matrix-vector) case.
   */
  matmul: { M: number; N: number; K: number; weightDType: WeightDType };
  /**
   * The feed-forward gate, fused: y = silu(x · w1ᵀ) ⊙ (x · w3ᵀ).
   * inputs [x f32 [M, K], w1 weight [N, K], w3 weight [N, K] (same dtype)]; outputs [y f32 [M, N]].
   * Equal to swiglu(matmul(x, w1), matmul(x, w3)) without writing the two intermediates.
   */
  matmulSwiglu: { M: number; N: number; K: number; weightDType: WeightDType };
  /**
   * Row gather. inputs [table weight [V, D], ids i32 [T]]; outputs [y f32 [T, D]].
   * An id outside 0..V-1 gives a zero row (ids are checked before they reach a backend).
   */
  embedding: { tokens: number; vocab: number; dim: number; tableDType: WeightDType };
  /**
   * y = x / sqrt(mean(x²) + eps) * weight over the last axis.
   * inputs [x f32 [R, D], weight f32 [D]]; outputs [y f32 [R, D]].
   */
  rmsNorm: { rows: number; dim: number; eps: number };
  /**
   * Rotary embedding of x [B, T, H, Dh] at positions startPos + t, from a precomputed table
   * (`ropeTable`: cos and sin per position and frequency, f32 [P, Dh/2, 2], angles in float64).
   * layout 'interleaved': pairs (x[2j], x[2j+1]) (Meta); 'half': pairs (x[j], x[j + Dh/2]) (Hugging Face).
   * inputs [x f32, table f32]; outputs [y f32 [B, T, H, Dh]].
   */
  rope: {
    batch: number;
    tokens: number;
    heads: number;
    headDim: number;
    startPos: number;
    layout: 'interleaved' | 'half';
  };
  /**
   * Writes new keys or values into a cache at positions startPos.., sequence slots slot...
   * inputs [values f32 [B, T, Hkv, Dh]]; outputs [cache f32 [S, L, Hkv, Dh]] (updated in place).
   */
  kvWrite: {
    batch: number;
    tokens: number;
    kvHeads: number;
    headDim: number;
    startPos: number;
    slot: number;
    maxSeqLen: number;
  };
  /**
   * Causal grouped-query attention of new queries over a cache that already holds their keys and
   * values (see kvWrite). Query (b, t, h) sits at position startPos + t and attends to cache
   * positions 0..startPos + t of slot + b, kv head h / (heads / kvHeads), with scale 1/sqrt(Dh);
   * softmax in f32.
   * inputs [q f32 [B, T, H, Dh], kCache f32 [S, L, Hkv, Dh], vCache f32 [S, L, Hkv, Dh]];
   * outputs [y f32 [B, T, H, Dh]].
   */
  attention: {
    batch: number;
    tokens: number;
    heads: number;
    kvHeads: number;
    headDim: number;
    startPos: number;
    slot: number;
    maxSeqLen: number;
    scale: number;
  };
  /** y = silu(a) * b, silu(z) = z / (1 + e^-z). inputs [a f32, b f32] (same size n); outputs [y f32]. */
  swiglu: { size: number };
  /** y = a + b. inputs [a f32, b f32] (same size n); outputs [y f32]. */
  add: { size: number };
  /** Softmax over the last axis. inputs [x f32 [R, N]]; outputs [y f32 [R, N]]. */
  softmax: { rows: number; cols: number };
  /**
   * log softmax(x[r])[ids[r]] per row. inputs [x f32 [R, N], ids i32 [R]]; outputs [y f32 [R]].
   * A negative id (padding) gives 0.
   */
  logSoftmaxGather: { rows: number; cols: number };
  /** Index of the first maximum per row. inputs [x f32 [R, N]]; outputs [y i32 [R]]. */
  argmax: { rows: number; cols: number };
}

export type OpName = keyof OpParams;

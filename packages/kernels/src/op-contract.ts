/**
 * Every op's contract, in one place: its named inputs and outputs and its parameters. The op front
 * ends (src/ops/<op>/op.ts) check shapes and fill these in; each backend's twin of the op trusts them.
 * Shapes are row-major; activations are f32, token ids i32.
 */
import type { WeightDType } from './dtype.js';
import type { Tensor } from './tensor.js';

type Tensors<Names extends string> = { readonly [Name in Names]: Tensor };

/**
 * One op: `inputs` and `outputs` name its tensors (`Optional` inputs may be absent), `params` its
 * sizes and options.
 */
interface Op<Inputs extends string, Outputs extends string, Params, Optional extends string = never> {
  inputs: Tensors<Inputs> & Partial<Tensors<Optional>>;
  outputs: Tensors<Outputs>;
  params: Params;
}

export interface OpContract {
  /**
   * y = x · wᵀ. x f32 [M, K], w weight [N, K]; y f32 [M, N].
   * Accumulates in f32. M = 1 is the decode (matrix-vector) case.
   */
  matmul: Op<'x' | 'w', 'y', { M: number; N: number; K: number; weightDType: WeightDType }>;
  /**
   * The feed-forward gate, fused: y = silu(x · w1ᵀ) ⊙ (x · w3ᵀ).
   * x f32 [M, K], w1 weight [N, K], w3 weight [N, K] (same dtype); y f32 [M, N].
   * Equal to swiglu(matmul(x, w1), matmul(x, w3)) without writing the two intermediates.
   */
  matmulSwiglu: Op<'x' | 'w1' | 'w3', 'y', { M: number; N: number; K: number; weightDType: WeightDType }>;
  /**
   * Row gather. table weight [V, D], ids i32 [T]; y f32 [T, D].
   * An id outside 0..V-1 gives a zero row (ids are checked before they reach a backend).
   */
  embedding: Op<'table' | 'ids', 'y', { tokens: number; vocab: number; dim: number; tableDType: WeightDType }>;
  /**
   * y = x / sqrt(mean(x²) + eps) * weight over the last axis.
   * x f32 [R, D], weight f32 [D]; y f32 [R, D].
   */
  rmsNorm: Op<'x' | 'weight', 'y', { rows: number; dim: number; eps: number }>;
  /**
   * Rotary embedding of x [B, T, H, Dh] at positions startPos + t, from a precomputed table
   * (`ropeTable`: cos and sin per position and frequency, f32 [P, Dh/2, 2], angles in float64).
   * layout 'interleaved': pairs (x[2j], x[2j+1]) (Meta); 'half': pairs (x[j], x[j + Dh/2]) (Hugging Face).
   * inverse: rotate by the negative angle (sin negated), the transpose of the rotation, so that
   * rope with inverse = true is rope's backward: dX = rope(dY, inverse = true).
   * rows (optional), i32 [B, 2] of (slot, startPos) per row (CacheRows): row b's tokens sit at
   * rows[b].startPos + t instead (startPos is then the largest of them; slots are not used here).
   * x f32, table f32; y f32 [B, T, H, Dh].
   */
  rope: Op<
    'x' | 'table',
    'y',
    {
      batch: number;
      tokens: number;
      heads: number;
      headDim: number;
      startPos: number;
      layout: 'interleaved' | 'half';
      inverse: boolean;
    },
    'rows'
  >;
  /**
   * Writes new keys or values into a cache at positions startPos.., sequence slots slot...
   * With rows (optional, i32 [B, 2] of (slot, startPos), distinct slots: CacheRows), row b goes to
   * slot rows[b].slot at positions rows[b].startPos.. instead (startPos and slot are then ignored).
   * values f32 [B, T, Hkv, Dh]; cache f32 [S, L, Hkv, Dh] (an output, updated in place).
   */
  kvWrite: Op<
    'values',
    'cache',
    {
      batch: number;
      tokens: number;
      kvHeads: number;
      headDim: number;
      startPos: number;
      slot: number;
      maxSeqLen: number;
    },
    'rows'
  >;
  /**
   * Causal grouped-query attention of new queries over a cache that already holds their keys and
   * values (see kvWrite). Query (b, t, h) sits at position startPos + t and attends to cache
   * positions 0..startPos + t of slot + b, kv head h / (heads / kvHeads), with scale 1/sqrt(Dh);
   * softmax in f32. With rows (optional, i32 [B, 2] of (slot, startPos): CacheRows), row b's
   * queries sit at rows[b].startPos + t of slot rows[b].slot instead; startPos is then the largest
   * rows[b].startPos (it sizes scratch and key splits) and slot is ignored.
   * q f32 [B, T, H, Dh], kCache f32 [S, L, Hkv, Dh], vCache f32 [S, L, Hkv, Dh]; y f32 [B, T, H, Dh].
   */
  attention: Op<
    'q' | 'kCache' | 'vCache',
    'y',
    {
      batch: number;
      tokens: number;
      heads: number;
      kvHeads: number;
      headDim: number;
      startPos: number;
      slot: number;
      maxSeqLen: number;
      scale: number;
    },
    'rows'
  >;
  /** y = silu(a) * b, silu(z) = z / (1 + e^-z). a f32, b f32 (same size n); y f32. */
  swiglu: Op<'a' | 'b', 'y', { size: number }>;
  /** y = a + b. a f32, b f32 (same size n); y f32. */
  add: Op<'a' | 'b', 'y', { size: number }>;
  /** Softmax over the last axis. x f32 [R, N]; y f32 [R, N]. */
  softmax: Op<'x', 'y', { rows: number; cols: number }>;
  /**
   * log softmax(x[r])[ids[r]] per row. x f32 [R, N], ids i32 [R]; y f32 [R].
   * A negative id (padding) gives 0.
   */
  logSoftmaxGather: Op<'x' | 'ids', 'y', { rows: number; cols: number }>;
  /** Index of the first maximum per row. x f32 [R, N]; y i32 [R]. */
  argmax: Op<'x', 'y', { rows: number; cols: number }>;

  // ---------------------------------------------------------------------------------------------
  // Training: backward ops and the optimizer step (f32 only). `accumulate` adds the result into the
  // output's existing contents (gradient accumulation across micro-batches) instead of overwriting.

  /** dX = dY · W, the input gradient of matmul. dY f32 [M, N], w f32 [N, K]; dX f32 [M, K]. */
  matmulGradInput: Op<'dY' | 'w', 'dX', { M: number; N: number; K: number }>;
  /**
   * dW (+)= dYᵀ · X, the weight gradient of matmul. dY f32 [M, N], x f32 [M, K];
   * dW f32 [N, K] (read too when accumulate).
   */
  matmulGradWeight: Op<'dY' | 'x', 'dW', { M: number; N: number; K: number; accumulate: boolean }>;
  /**
   * Softmax cross-entropy, fused with its gradient. Per row r with target id = targets[r]:
   * loss[r] = -log softmax(logits[r])[id], dLogits[r] = (softmax(logits[r]) - onehot(id)) · scale;
   * a row whose target is outside 0..V-1 (negative = padding) gets loss 0 and a zero gradient.
   * scale is usually 1 / (number of counted rows), making dLogits the gradient of the mean loss.
   * logits f32 [R, V], targets i32 [R]; loss f32 [R], dLogits f32 [R, V].
   */
  crossEntropy: Op<'logits' | 'targets', 'loss' | 'dLogits', { rows: number; cols: number; scale: number }>;
  /**
   * The backward of rmsNorm (y = x · rstd · w, rstd = 1 / sqrt(mean(x²) + eps)):
   * dX = rstd · (dY ⊙ w) - x · rstd³ · Σ(dY ⊙ w ⊙ x) / D per row; dWeight (+)= Σ_rows dY ⊙ x · rstd.
   * x f32 [R, D], weight f32 [D], dY f32 [R, D];
   * dX f32 [R, D], dWeight f32 [D], rstd f32 [R] (scratch: 1/rms per row, written by the first pass).
   */
  rmsNormBackward: Op<
    'x' | 'weight' | 'dY',
    'dX' | 'dWeight' | 'rstd',
    { rows: number; dim: number; eps: number; accumulate: boolean }
  >;
  /**
   * The backward of swiglu (y = silu(a) · b): dA = dY · b · silu'(a), dB = dY · silu(a), with
   * silu'(z) = σ(z)(1 + z(1 - σ(z))). a f32, b f32, dY f32 (same size n); dA f32, dB f32.
   */
  swigluBackward: Op<'a' | 'b' | 'dY', 'dA' | 'dB', { size: number }>;
  /**
   * The backward of embedding: dTable[v] (+)= Σ_{t: ids[t] = v} dY[t] (ids outside 0..V-1 contribute
   * nothing). ids i32 [T], dY f32 [T, D]; dTable f32 [V, D].
   * The WebGPU kernel has no float atomics: a thread per (v, d) scans all T ids, O(V·D·T) work,
   * meant for small vocabularies (character models); a large vocabulary wants a sort-based kernel.
   */
  embeddingBackward: Op<'ids' | 'dY', 'dTable', { tokens: number; vocab: number; dim: number; accumulate: boolean }>;
  /**
   * One AdamW step, in place, for t = step (1-based): g = grad · gradScale (gradScale folds in
   * gradient-norm clipping), m = β1·m + (1-β1)·g, v = β2·v + (1-β2)·g²,
   * p = p·(1 - lr·weightDecay) - lr · (m / bias1) / (sqrt(v / bias2) + eps), with
   * bias1 = 1 - β1^t and bias2 = 1 - β2^t (computed by the front end in float64). weightDecay 0 is Adam.
   * grad f32 [n]; param f32 [n], m f32 [n], v f32 [n] (outputs, all updated in place).
   */
  adamwStep: Op<
    'grad',
    'param' | 'm' | 'v',
    {
      size: number;
      lr: number;
      beta1: number;
      beta2: number;
      eps: number;
      weightDecay: number;
      bias1: number;
      bias2: number;
      gradScale: number;
    }
  >;
  /**
   * Σ x² over a whole tensor into one f32 (for gradient-norm clipping), two-level: `partials` partial
   * sums, then their sum. x f32 [n]; out f32 [1] (read too when accumulate), partials f32 [partials] (scratch).
   */
  sumSquares: Op<'x', 'out' | 'partials', { size: number; partials: number; accumulate: boolean }>;
  /**
   * The backward of causal grouped-query attention over a whole sequence (training: startPos 0, the
   * batch's own keys and values, scale 1/sqrt(Dh)). Probabilities are recomputed, not stored.
   * q f32 [B, T, H, Dh], k f32 [B, T, Hkv, Dh], v f32 [B, T, Hkv, Dh], dOut f32 [B, T, H, Dh];
   * dQ [B, T, H, Dh], dK [B, T, Hkv, Dh], dV [B, T, Hkv, Dh], stats [B, T, H, 2] where
   * stats is scratch: per query the log-sum-exp of its scores and D = Σ_j p_j (dOut · v_j).
   */
  attentionBackward: Op<
    'q' | 'k' | 'v' | 'dOut',
    'dQ' | 'dK' | 'dV' | 'stats',
    { batch: number; tokens: number; heads: number; kvHeads: number; headDim: number; scale: number }
  >;
}

export type OpName = keyof OpContract;
export type OpInputs = { [Name in OpName]: OpContract[Name]['inputs'] };
export type OpOutputs = { [Name in OpName]: OpContract[Name]['outputs'] };
export type OpParams = { [Name in OpName]: OpContract[Name]['params'] };

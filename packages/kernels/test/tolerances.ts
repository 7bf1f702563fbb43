/**
 * Every tolerance of the op tests, in one table. An element passes when
 * |got - expected| <= abs + rel · |expected|, `expected` being the float64 reference on the values
 * the kernel actually sees (weights after f16 rounding or q8_0 quantisation), so these bound the
 * kernel's own f32 error, never the storage format's (that has its own tests in dtype.test.ts).
 *
 * Inputs are uniform in [-1, 1) unless a test says otherwise. u = 2^-24 (f32 unit roundoff).
 * Do not loosen one to make a failing test pass without writing down why here.
 */
import type { WeightDType } from '../src/node.js';
import type { Tolerance } from './harness.js';

export const TOLERANCE = {
  /**
   * y = x·wᵀ, accumulated in f32 (contract), any order (sequential, tiled, tree). A length-K f32 dot
   * product of [-1, 1) data has a rounding error that grows like √K: measured max over 2000 random
   * dots with sequential f32 accumulation is 7e-7·√K (2.3e-5 at K = 1003). abs 1e-5·√K leaves 10x
   * margin (1e-4 at K = 100, 3.2e-4 at K = 1003). The same for f16 and q8_0 weights: dequantising
   * either is exact in f32 (f16 widens exactly; an f16 scale times an int8 quant has ≤ 19 significant bits).
   * And for the 4-6-bit block formats, whose values are exact in f32 or (a scale times a quant minus a
   * min times an offset) rounded once, 2^-24 relative: far below the dot product's own rounding.
   */
  matmul: (K: number): Tolerance => ({ abs: 1e-5 * Math.sqrt(K), rel: 1e-4 }),
  /**
   * silu(x·w1ᵀ) ⊙ (x·w3ᵀ) with weights in ±1/√K (so both dots are O(1) and their f32 error is
   * ~1e-6 at any K); silu' ≤ 1.1, so y's error is about the dot error times |up| + |silu(gate)| ≲ 3.
   */
  matmulSwiglu: { abs: 2e-5, rel: 1e-4 } satisfies Tolerance,
  /**
   * A gather: f32 and q8_0 rows must come back bit-exact. f16 allows 2^-14 absolute because WGSL
   * lets unpack2x16float flush f16 subnormals (|v| < 2^-14) to zero. The 4-6-bit block formats:
   * each value correctly rounded to f32 (half an ulp, 2^-24 relative, of the exact float64 value):
   * d·q, d·sc·q and d·sc·(q - 32) are exact in f32, and d·q + m, d·sc·q - dmin·m round once.
   */
  embedding: {
    f32: { abs: 0, rel: 0 },
    f16: { abs: 2 ** -14, rel: 0 },
    q8_0: { abs: 0, rel: 0 },
    q4_0: { abs: 0, rel: 2 ** -24 },
    q4_1: { abs: 0, rel: 2 ** -24 },
    q4_k: { abs: 0, rel: 2 ** -24 },
    q5_k: { abs: 0, rel: 2 ** -24 },
    q6_k: { abs: 0, rel: 2 ** -24 },
  } satisfies Record<WeightDType, Tolerance>,
  /** A mean of ≤ 1003 squares in f32 (error ~√D·u relative), an inverse square root (a few ulp), two products. */
  rmsNorm: { abs: 1e-6, rel: 2e-5 } satisfies Tolerance,
  /**
   * Two products and a sum per element, with cos and sin rounded to f32 in the table (the reference
   * uses float64 cos/sin: the table's rounding is ≤ u relative). A kernel that recomputes the angles
   * in f32 instead of reading the table fails this at positions in the hundreds, as it should.
   */
  rope: { abs: 2e-6, rel: 1e-5 } satisfies Tolerance,
  /**
   * Scores are length-Dh (≤ 32) dots, softmax over ≤ 600 positions in f32 (exp is 3 + 2|x| ulp in
   * WGSL), then a weighted sum of ≤ 600 values in [-1, 1): each stage adds ~1e-6.
   */
  attention: { abs: 2e-5, rel: 1e-4 } satisfies Tolerance,
  /**
   * Gradients through recomputed softmax probabilities: dot products of length Dh ≤ 17 and sums over
   * ≤ 70 positions × ≤ 4 heads of values in [-1, 1), each stage in f32; measured worst 8.8e-7.
   */
  attentionBackward: { abs: 5e-6, rel: 5e-5 } satisfies Tolerance,
  /** Exact copy. */
  kvWrite: { abs: 0, rel: 0 } satisfies Tolerance,
  /** One f32 addition: correctly rounded, so within one ulp (2u relative) of the float64 sum. */
  add: { abs: 0, rel: 2 ** -23 } satisfies Tolerance,
  /** exp (3 + 2|z| ulp in WGSL, up to ~200 ulp = 1.2e-5 at |z| = 100, where silu(z) is tiny), a division, a product. */
  swiglu: { abs: 1e-6, rel: 1e-5 } satisfies Tolerance,
  /** exp of x - max (a few to ~200 ulp), a sum of ≤ 1003 terms in f32, a division. Probabilities ≤ 1. */
  softmax: { abs: 1e-6, rel: 2e-5 } satisfies Tolerance,
  /**
   * x[id] - max - log(Σ exp(x - max)): on the ±80 rows the result is ~-160, whose f32 ulp is 1.5e-5,
   * hence the relative part; abs covers log(sum) (sum of ≤ 1003 terms) on ordinary rows.
   */
  logSoftmaxGather: { abs: 2e-5, rel: 1e-5 } satisfies Tolerance,

  // --- Training (backward ops, optimizer). Measured worst errors are in the report of the change that added them.

  /**
   * The CPU kernels against central finite differences (f(x+h) - f(x-h)) / 2h of a random linear
   * functional of the float64 forward, h = 1e-5: the difference quotient's truncation error is
   * O(h²) ≈ 1e-10 and its rounding ≈ 1e-16·|f| / h ≈ 1e-10, so this bounds the kernels' f32 rounding
   * (sums of ≤ 48 products of O(1) values; measured worst 2.9e-7 absolute), with ~3x margin.
   */
  gradcheck: { abs: 1e-6, rel: 1e-5 } satisfies Tolerance,
  /**
   * matmulGradInput / matmulGradWeight: f32 dots of length `inner` (N for dX, M for dW), as for
   * matmul (the same √inner growth, the same 10x margin).
   */
  matmulGrad: (inner: number): Tolerance => ({ abs: 1e-5 * Math.sqrt(inner), rel: 1e-4 }),
  /**
   * crossEntropy: the loss as logSoftmaxGather (log Σ exp and a subtraction, ~-160 on ±80 rows);
   * dLogits as softmax (probabilities to ~1e-6 absolute) minus a one-hot, times scale ≤ 1.
   */
  crossEntropyLoss: { abs: 2e-5, rel: 1e-5 } satisfies Tolerance,
  crossEntropyGrad: { abs: 1e-6, rel: 2e-5 } satisfies Tolerance,
  /**
   * rmsNormBackward: dX = rstd·g·w - x·rstd³·Σ(g·w·x)/D, two f32 row sums of ≤ 1003 terms and a
   * difference of two O(rstd) terms that can cancel; dWeight a column sum over ≤ 100 rows of O(rstd)
   * terms. Inputs ±1, weights ±2 (rstd ≈ 1.7): 1e-5 absolute is ~10x the measured error.
   */
  rmsNormBackward: { abs: 1e-5, rel: 1e-4 } satisfies Tolerance,
  /** swigluBackward: swiglu's exp and division (see swiglu) and three more products per element. */
  swigluBackward: { abs: 2e-6, rel: 2e-5 } satisfies Tolerance,
  /** embeddingBackward: f32 sums of ≤ 12 rows of ±1 values in token order: ≤ 12·u·12 ≈ 1e-5 relative worst case. */
  embeddingBackward: { abs: 1e-6, rel: 1e-5 } satisfies Tolerance,
  /**
   * adamwStep over several steps: m, v and p are stored in f32 between steps (the reference keeps
   * float64), each step adds a few ulp to m, v (rel) and lr·(few u) to p; bias1/bias2 are rounded to
   * f32 uniforms on WebGPU (u relative on m̂, v̂).
   */
  adamw: { abs: 1e-6, rel: 1e-5 } satisfies Tolerance,
  /** sumSquares: a two-level f32 sum of ≤ 1e5 positive terms (no cancellation): ~√(terms per level)·u relative. */
  sumSquares: { abs: 0, rel: 1e-5 } satisfies Tolerance,
} as const;

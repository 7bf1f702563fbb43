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
   */
  matmul: (K: number): Tolerance => ({ abs: 1e-5 * Math.sqrt(K), rel: 1e-4 }),
  /**
   * silu(x·w1ᵀ) ⊙ (x·w3ᵀ) with weights in ±1/√K (so both dots are O(1) and their f32 error is
   * ~1e-6 at any K); silu' ≤ 1.1, so y's error is about the dot error times |up| + |silu(gate)| ≲ 3.
   */
  matmulSwiglu: { abs: 2e-5, rel: 1e-4 } satisfies Tolerance,
  /**
   * A gather: f32 and q8_0 rows must come back bit-exact. f16 allows 2^-14 absolute because WGSL
   * lets unpack2x16float flush f16 subnormals (|v| < 2^-14) to zero.
   */
  embedding: {
    f32: { abs: 0, rel: 0 },
    f16: { abs: 2 ** -14, rel: 0 },
    q8_0: { abs: 0, rel: 0 },
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
} as const;

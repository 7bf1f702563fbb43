/**
 * Float64 references for the backward ops, written from the analytic gradients (independent of
 * src/cpu). backward-gradcheck.test.ts checks the CPU kernels against finite differences of the
 * float64 forward references; the backend tests compare every backend against these.
 */
import { matmulRef, rmsNormRef } from './reference.js';

type Values = ArrayLike<number>;
const at = (v: Values, i: number) => v[i] as number;

/** dX [M, K] = dY [M, N] · W [N, K]. */
export function matmulGradInputRef(dY: Values, w: Values, M: number, N: number, K: number): Float64Array {
  const dX = new Float64Array(M * K);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++) dX[m * K + k] = at(dX, m * K + k) + at(dY, m * N + n) * at(w, n * K + k);
  return dX;
}

/** dW [N, K] = dYᵀ · X, plus `initial` (gradient accumulation) when given. */
export function matmulGradWeightRef(
  dY: Values,
  x: Values,
  M: number,
  N: number,
  K: number,
  initial?: Values,
): Float64Array {
  const dW = initial ? Float64Array.from(initial) : new Float64Array(N * K);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++) dW[n * K + k] = at(dW, n * K + k) + at(dY, m * N + n) * at(x, m * K + k);
  return dW;
}

/** Per-row -log softmax[target] (0 for targets outside 0..V-1) and (softmax - onehot) · scale. */
export function crossEntropyRef(
  logits: Values,
  targets: Values,
  R: number,
  V: number,
  scale: number,
): { loss: Float64Array; dLogits: Float64Array } {
  const loss = new Float64Array(R);
  const dLogits = new Float64Array(R * V);
  for (let r = 0; r < R; r++) {
    const id = at(targets, r);
    if (id < 0 || id >= V) continue;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < V; c++) max = Math.max(max, at(logits, r * V + c));
    let sum = 0;
    for (let c = 0; c < V; c++) sum += Math.exp(at(logits, r * V + c) - max);
    loss[r] = Math.log(sum) + max - at(logits, r * V + id);
    for (let c = 0; c < V; c++) {
      dLogits[r * V + c] = (Math.exp(at(logits, r * V + c) - max) / sum - (c === id ? 1 : 0)) * scale;
    }
  }
  return { loss, dLogits };
}

/** rmsNorm's gradients: dX and dWeight (+ `initial`). */
export function rmsNormBackwardRef(
  x: Values,
  w: Values,
  dY: Values,
  R: number,
  D: number,
  eps: number,
  initial?: Values,
): { dX: Float64Array; dWeight: Float64Array } {
  const dX = new Float64Array(R * D);
  const dWeight = initial ? Float64Array.from(initial) : new Float64Array(D);
  for (let r = 0; r < R; r++) {
    let ss = 0;
    for (let d = 0; d < D; d++) ss += at(x, r * D + d) ** 2;
    const rstd = 1 / Math.sqrt(ss / D + eps);
    // y_d = x_d · rstd · w_d; dL/dx_i = rstd · g_i w_i - x_i · rstd³ / D · Σ_d g_d w_d x_d
    let dot = 0;
    for (let d = 0; d < D; d++) dot += at(dY, r * D + d) * at(w, d) * at(x, r * D + d);
    for (let d = 0; d < D; d++) {
      const i = r * D + d;
      dX[i] = rstd * at(dY, i) * at(w, d) - (at(x, i) * rstd ** 3 * dot) / D;
      dWeight[d] = (dWeight[d] as number) + at(dY, i) * at(x, i) * rstd;
    }
  }
  return { dX, dWeight };
}

export function rmsNormForward(x: Values, w: Values, R: number, D: number, eps: number): Float64Array {
  return rmsNormRef(x, w, R, D, eps);
}

/** swiglu's gradients: dA = g · b · σ(a)(1 + a(1 - σ(a))), dB = g · a σ(a). */
export function swigluBackwardRef(a: Values, b: Values, dY: Values): { dA: Float64Array; dB: Float64Array } {
  const n = a.length;
  const dA = new Float64Array(n);
  const dB = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = at(a, i);
    const s = 1 / (1 + Math.exp(-z));
    dA[i] = at(dY, i) * at(b, i) * s * (1 + z * (1 - s));
    dB[i] = at(dY, i) * z * s;
  }
  return { dA, dB };
}

/** dTable [V, D] = Σ over tokens of dY rows, by id (+ `initial`). */
export function embeddingBackwardRef(ids: Values, dY: Values, V: number, D: number, initial?: Values): Float64Array {
  const dTable = initial ? Float64Array.from(initial) : new Float64Array(V * D);
  for (let t = 0; t < ids.length; t++) {
    const id = at(ids, t);
    if (id < 0 || id >= V) continue;
    for (let d = 0; d < D; d++) dTable[id * D + d] = (dTable[id * D + d] as number) + at(dY, t * D + d);
  }
  return dTable;
}

export interface AdamWRefOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  gradScale: number;
}

/** One AdamW step at 1-based step t, in float64, in place on p, m, v (PyTorch's AdamW). */
export function adamwRef(
  p: Float64Array,
  g: Values,
  m: Float64Array,
  v: Float64Array,
  t: number,
  o: AdamWRefOptions,
): void {
  for (let i = 0; i < p.length; i++) {
    const gi = at(g, i) * o.gradScale;
    m[i] = o.beta1 * (m[i] as number) + (1 - o.beta1) * gi;
    v[i] = o.beta2 * (v[i] as number) + (1 - o.beta2) * gi * gi;
    const mHat = (m[i] as number) / (1 - o.beta1 ** t);
    const vHat = (v[i] as number) / (1 - o.beta2 ** t);
    p[i] = (p[i] as number) * (1 - o.lr * o.weightDecay) - (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
  }
}

export { matmulRef };

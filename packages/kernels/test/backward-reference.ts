/**
 * Float64 references for the backward ops, written from the analytic gradients (independent of
 * src/cpu). backward-gradcheck.test.ts checks the CPU kernels against finite differences of the
 * float64 forward references; the backend tests compare every backend against these.
 */
import { uniform } from './harness.js';
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

/** Causal GQA over a whole sequence (training): B sequences of T tokens, H query and Hkv key/value heads of D. */
export interface AttentionShape {
  label: string;
  B: number;
  T: number;
  H: number;
  Hkv: number;
  D: number;
}

/** Float64 forward: out[b,t,h] = Σ_{s ≤ t} softmax(q·k_s / sqrt(D)) v_s, kv head h / (H / Hkv). */
export function attentionForwardRef(c: AttentionShape, q: Values, k: Values, v: Values): Float64Array {
  const { B, T, H, Hkv, D } = c;
  const out = new Float64Array(B * T * H * D);
  const scale = 1 / Math.sqrt(D);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / Hkv));
        const qi = ((b * T + t) * H + h) * D;
        const scores = Array.from({ length: t + 1 }, (_, s) => {
          let dot = 0;
          for (let e = 0; e < D; e++) dot += (q[qi + e] as number) * (k[((b * T + s) * Hkv + g) * D + e] as number);
          return dot * scale;
        });
        const max = Math.max(...scores);
        const exps = scores.map((x) => Math.exp(x - max));
        const sum = exps.reduce((a, x) => a + x, 0);
        exps.forEach((p, s) => {
          for (let e = 0; e < D; e++)
            out[qi + e] = (out[qi + e] as number) + (p / sum) * (v[((b * T + s) * Hkv + g) * D + e] as number);
        });
      }
  return out;
}

/** Float64 analytic gradients of Σ dOut ⊙ forward. */
export function attentionGradientsRef(
  c: AttentionShape,
  q: Values,
  k: Values,
  v: Values,
  dOut: Values,
): { dQ: Float64Array; dK: Float64Array; dV: Float64Array } {
  const { B, T, H, Hkv, D } = c;
  const dQ = new Float64Array(q.length);
  const dK = new Float64Array(k.length);
  const dV = new Float64Array(v.length);
  const scale = 1 / Math.sqrt(D);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++) {
        const g = Math.floor(h / (H / Hkv));
        const qi = ((b * T + t) * H + h) * D;
        const kv = (s: number) => ((b * T + s) * Hkv + g) * D;
        const dotQ = (arr: ArrayLike<number>, s: number, other: ArrayLike<number>) => {
          let sum = 0;
          for (let e = 0; e < D; e++) sum += (other[qi + e] as number) * (arr[kv(s) + e] as number);
          return sum;
        };
        const scores = Array.from({ length: t + 1 }, (_, s) => dotQ(k, s, q) * scale);
        const max = Math.max(...scores);
        const exps = scores.map((x) => Math.exp(x - max));
        const sum = exps.reduce((a, x) => a + x, 0);
        const probs = exps.map((x) => x / sum);
        const dProbs = probs.map((_, s) => dotQ(v, s, dOut));
        const dSum = probs.reduce((a, p, s) => a + p * (dProbs[s] as number), 0);
        probs.forEach((p, s) => {
          const dScore = p * ((dProbs[s] as number) - dSum) * scale;
          for (let e = 0; e < D; e++) {
            dQ[qi + e] = (dQ[qi + e] as number) + dScore * (k[kv(s) + e] as number);
            dK[kv(s) + e] = (dK[kv(s) + e] as number) + dScore * (q[qi + e] as number);
            dV[kv(s) + e] = (dV[kv(s) + e] as number) + p * (dOut[qi + e] as number);
          }
        });
      }
  return { dQ, dK, dV };
}

/** Random q, k, v and dOut for `c`, uniform in [-1, 1). */
export function attentionBackwardInputs(rng: () => number, c: AttentionShape) {
  return {
    q: uniform(rng, c.B * c.T * c.H * c.D),
    k: uniform(rng, c.B * c.T * c.Hkv * c.D),
    v: uniform(rng, c.B * c.T * c.Hkv * c.D),
    dOut: uniform(rng, c.B * c.T * c.H * c.D),
  };
}

export { matmulRef };

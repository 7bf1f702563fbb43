// Temporary scalar kernels for the ops whose fast kernels are being written separately (matmul
// family, attention forward and backward), so that the wasm backend runs every op meanwhile.
// Simple and obviously correct; each is replaced by its SIMD kernel and then deleted.
import { at4, expf, f16ToF32, logf64, partStart } from './common.as';

/** Weight element (n, k) of an [N, K] weight: dtype 0 f32, 1 f16, 2 q8_0 (scales at `scales`). */
@inline
function weightAt(w: usize, scales: usize, dtype: i32, K: i32, n: i32, k: i32): f32 {
  const i = n * K + k;
  if (dtype == 0) return load<f32>(at4(w, i));
  if (dtype == 1) return f16ToF32(<u32>load<u16>(w + ((<usize>i) << 1)));
  return <f32>load<i8>(w + <usize>i) * f16ToF32(<u32>load<u16>(scales + ((<usize>(i >> 5)) << 1)));
}

/** y [M, N] = x [M, K] · wᵀ; the N outputs split across threads. */
export function standInMatmul(
  tid: i32,
  nthreads: i32,
  x: usize,
  w: usize,
  scales: usize,
  y: usize,
  M: i32,
  N: i32,
  K: i32,
  dtype: i32,
): void {
  const first = partStart(tid, nthreads, N, 1);
  const last = partStart(tid + 1, nthreads, N, 1);
  for (let n = first; n < last; n++) {
    for (let m = 0; m < M; m++) {
      let sum: f32 = 0;
      for (let k = 0; k < K; k++) sum += load<f32>(at4(x, m * K + k)) * weightAt(w, scales, dtype, K, n, k);
      store<f32>(at4(y, m * N + n), sum);
    }
  }
}

/** y = silu(x · w1ᵀ) ⊙ (x · w3ᵀ). */
export function standInMatmulSwiglu(
  tid: i32,
  nthreads: i32,
  x: usize,
  w1: usize,
  scales1: usize,
  w3: usize,
  scales3: usize,
  y: usize,
  M: i32,
  N: i32,
  K: i32,
  dtype: i32,
): void {
  const first = partStart(tid, nthreads, N, 1);
  const last = partStart(tid + 1, nthreads, N, 1);
  for (let n = first; n < last; n++) {
    for (let m = 0; m < M; m++) {
      let gate: f32 = 0;
      let up: f32 = 0;
      for (let k = 0; k < K; k++) {
        const xv = load<f32>(at4(x, m * K + k));
        gate += xv * weightAt(w1, scales1, dtype, K, n, k);
        up += xv * weightAt(w3, scales3, dtype, K, n, k);
      }
      store<f32>(at4(y, m * N + n), (gate / (1 + expf(-gate))) * up);
    }
  }
}

/** dX [M, K] = dY [M, N] · W [N, K]; the K columns split across threads. */
export function standInMatmulGradInput(tid: i32, nthreads: i32, dY: usize, w: usize, dX: usize, M: i32, N: i32, K: i32): void {
  const first = partStart(tid, nthreads, K, 1);
  const last = partStart(tid + 1, nthreads, K, 1);
  for (let m = 0; m < M; m++) {
    for (let k = first; k < last; k++) {
      let sum: f32 = 0;
      for (let n = 0; n < N; n++) sum += load<f32>(at4(dY, m * N + n)) * load<f32>(at4(w, n * K + k));
      store<f32>(at4(dX, m * K + k), sum);
    }
  }
}

/** dW [N, K] (+)= dYᵀ · X; the N rows split across threads. */
export function standInMatmulGradWeight(
  tid: i32,
  nthreads: i32,
  dY: usize,
  x: usize,
  dW: usize,
  M: i32,
  N: i32,
  K: i32,
  accumulate: i32,
): void {
  const first = partStart(tid, nthreads, N, 1);
  const last = partStart(tid + 1, nthreads, N, 1);
  for (let n = first; n < last; n++) {
    for (let k = 0; k < K; k++) {
      let sum: f32 = 0;
      for (let m = 0; m < M; m++) sum += load<f32>(at4(dY, m * N + n)) * load<f32>(at4(x, m * K + k));
      const o = at4(dW, n * K + k);
      store<f32>(o, accumulate ? load<f32>(o) + sum : sum);
    }
  }
}

/**
 * Causal GQA attention over the cache, one query (b, t, h) at a time (the queries split across
 * threads): scores, their max, then e^(s - max)-weighted values accumulated in y and divided by the sum.
 */
export function standInAttention(
  tid: i32,
  nthreads: i32,
  q: usize,
  kCache: usize,
  vCache: usize,
  y: usize,
  batch: i32,
  tokens: i32,
  heads: i32,
  kvHeads: i32,
  headDim: i32,
  startPos: i32,
  slot: i32,
  maxSeqLen: i32,
  scale: f32,
): void {
  const queries = batch * tokens * heads;
  const first = partStart(tid, nthreads, queries, 1);
  const last = partStart(tid + 1, nthreads, queries, 1);
  const group = heads / kvHeads;
  const kvRow = kvHeads * headDim;
  for (let query = first; query < last; query++) {
    const h = query % heads;
    const t = (query / heads) % tokens;
    const b = query / (heads * tokens);
    const qv = at4(q, query * headDim);
    const yv = at4(y, query * headDim);
    const kvBase = (slot + b) * maxSeqLen * kvRow + (h / group) * headDim;
    const seen = startPos + t + 1;
    let max: f32 = -Infinity;
    for (let s = 0; s < seen; s++) {
      let dot: f32 = 0;
      for (let d = 0; d < headDim; d++) dot += load<f32>(at4(qv, d)) * load<f32>(at4(kCache, kvBase + s * kvRow + d));
      if (dot * scale > max) max = dot * scale;
    }
    memory.fill(yv, 0, (<usize>headDim) << 2);
    let sum: f32 = 0;
    for (let s = 0; s < seen; s++) {
      let dot: f32 = 0;
      for (let d = 0; d < headDim; d++) dot += load<f32>(at4(qv, d)) * load<f32>(at4(kCache, kvBase + s * kvRow + d));
      const e = expf(dot * scale - max);
      sum += e;
      for (let d = 0; d < headDim; d++) {
        store<f32>(at4(yv, d), load<f32>(at4(yv, d)) + e * load<f32>(at4(vCache, kvBase + s * kvRow + d)));
      }
    }
    for (let d = 0; d < headDim; d++) store<f32>(at4(yv, d), load<f32>(at4(yv, d)) / sum);
  }
}

@inline
function dotAt(a: usize, b: usize, n: i32): f32 {
  let sum: f32 = 0;
  for (let d = 0; d < n; d++) sum += load<f32>(at4(a, d)) * load<f32>(at4(b, d));
  return sum;
}

/**
 * Causal GQA attention backward (see OpParams['attentionBackward']); the (sequence, kv head) pairs
 * split across threads, so each thread owns its dK and dV slices. Per query: the log-sum-exp L of
 * its scores, D = Σ_j p_j (dO · v_j), then dS_j = p_j (dO · v_j - D) · scale into dQ, dK and dV.
 */
export function standInAttentionBackward(
  tid: i32,
  nthreads: i32,
  q: usize,
  k: usize,
  v: usize,
  dOut: usize,
  dQ: usize,
  dK: usize,
  dV: usize,
  stats: usize,
  batch: i32,
  T: i32,
  heads: i32,
  kvHeads: i32,
  headDim: i32,
  scale: f32,
): void {
  const pairs = batch * kvHeads;
  const first = partStart(tid, nthreads, pairs, 1);
  const last = partStart(tid + 1, nthreads, pairs, 1);
  const group = heads / kvHeads;
  const qRow = heads * headDim;
  const kvRow = kvHeads * headDim;
  for (let pair = first; pair < last; pair++) {
    const b = pair / kvHeads;
    const g = pair % kvHeads;
    const kvBase = b * T * kvRow + g * headDim;
    for (let j = 0; j < T; j++) {
      memory.fill(at4(dK, kvBase + j * kvRow), 0, (<usize>headDim) << 2);
      memory.fill(at4(dV, kvBase + j * kvRow), 0, (<usize>headDim) << 2);
    }
    for (let h = g * group; h < (g + 1) * group; h++) {
      for (let i = 0; i < T; i++) {
        const qi = at4(q, (b * T + i) * qRow + h * headDim);
        const doi = at4(dOut, (b * T + i) * qRow + h * headDim);
        const dqi = at4(dQ, (b * T + i) * qRow + h * headDim);
        let max: f32 = -Infinity;
        for (let j = 0; j <= i; j++) {
          const s = dotAt(qi, at4(k, kvBase + j * kvRow), headDim) * scale;
          if (s > max) max = s;
        }
        let sum: f32 = 0;
        for (let j = 0; j <= i; j++) sum += expf(dotAt(qi, at4(k, kvBase + j * kvRow), headDim) * scale - max);
        const logSumExp = max + <f32>logf64(<f64>sum);
        let D: f32 = 0;
        for (let j = 0; j <= i; j++) {
          const p = expf(dotAt(qi, at4(k, kvBase + j * kvRow), headDim) * scale - logSumExp);
          D += p * dotAt(doi, at4(v, kvBase + j * kvRow), headDim);
        }
        memory.fill(dqi, 0, (<usize>headDim) << 2);
        for (let j = 0; j <= i; j++) {
          const kj = at4(k, kvBase + j * kvRow);
          const vj = at4(v, kvBase + j * kvRow);
          const p = expf(dotAt(qi, kj, headDim) * scale - logSumExp);
          const dS = p * (dotAt(doi, vj, headDim) - D) * scale;
          const dkj = at4(dK, kvBase + j * kvRow);
          const dvj = at4(dV, kvBase + j * kvRow);
          for (let d = 0; d < headDim; d++) {
            store<f32>(at4(dqi, d), load<f32>(at4(dqi, d)) + dS * load<f32>(at4(kj, d)));
            store<f32>(at4(dkj, d), load<f32>(at4(dkj, d)) + dS * load<f32>(at4(qi, d)));
            store<f32>(at4(dvj, d), load<f32>(at4(dvj, d)) + p * load<f32>(at4(doi, d)));
          }
        }
        const st = at4(stats, ((b * T + i) * heads + h) * 2);
        store<f32>(st, logSumExp);
        store<f32>(st + 4, D);
      }
    }
  }
}

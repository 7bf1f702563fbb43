// The backward of causal grouped-query attention (see OpContract['attentionBackward']; training:
// startPos 0, the batch's own keys and values): the CPU twin's derivation on the packed gemm of
// src/wasm/kernels/gemm.as.ts. Per sequence b and query head h, S = Q·Kᵀ, dP = dO·Vᵀ over the full
// T × T square (masked entries zeroed), P = softmax, D = rowsum(P ⊙ dP), dS = P ⊙ (dP - D) · scale,
// then dQ = dS·K, dK += dSᵀ·Q, dV += Pᵀ·dO. Units are (b, kv head g) so that each thread owns the
// dK and dV rows it accumulates over the group's query heads: no atomics, no reduction pass.
import { expf4, logf64 } from '../../wasm/kernels/common.as';
import { B_F32, GEMM_SCRATCH, gemmRange } from '../../wasm/kernels/gemm.as';
import { madd } from '../../wasm/kernels/simd.as';

/** Per-thread scratch of attentionBackward: P and dS (T × T f32 each) after the gemm's packing. */
export function attentionBackwardScratchBytes(tokens: i32): i32 {
  return GEMM_SCRATCH + 2 * tokens * tokens * 4;
}

/**
 * q, dOut f32 [B, T, H, Dh], k, v f32 [B, T, Hkv, Dh] → dQ [B, T, H, Dh], dK, dV [B, T, Hkv, Dh],
 * stats [B, T, H, 2] (log-sum-exp, D). Thread tid's scratch: scratch + tid · scratchStride
 * (attentionBackwardScratchBytes(T)).
 */
export function attentionBackward(
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
  scratch: usize,
  scratchStride: i32,
): void {
  const group = heads / kvHeads;
  const qRow = heads * headDim;
  const kvRow = kvHeads * headDim;
  const base = scratch + <usize>tid * scratchStride;
  const probs = base + GEMM_SCRATCH;
  const dScores = probs + ((<usize>T * T) << 2);
  for (let u = tid; u < batch * kvHeads; u += nthreads) {
    const b = u / kvHeads;
    const g = u % kvHeads;
    const kvBase = ((<usize>b * T * kvHeads + g) * headDim) << 2;
    for (let hh = 0; hh < group; hh++) {
      const h = g * group + hh;
      const qBase = ((<usize>b * T * heads + h) * headDim) << 2;
      gemmRange(q + qBase, qRow, 1, B_F32, k + kvBase, 0, kvRow, 1, probs, T, 0, T, 0, T, headDim, 0, base);
      gemmRange(dOut + qBase, qRow, 1, B_F32, v + kvBase, 0, kvRow, 1, dScores, T, 0, T, 0, T, headDim, 0, base);
      for (let t = 0; t < T; t++) {
        const row = (<usize>t * T) << 2;
        const st = stats + ((<usize>((b * T + t) * heads + h)) << 3);
        softmaxBackwardRow(probs + row, dScores + row, t + 1, T, scale, st);
      }
      const acc = hh > 0 ? 1 : 0;
      gemmRange(dScores, T, 1, B_F32, k + kvBase, 0, 1, kvRow, dQ + qBase, qRow, 0, T, 0, headDim, T, 0, base);
      gemmRange(dScores, 1, T, B_F32, q + qBase, 0, 1, qRow, dK + kvBase, kvRow, 0, T, 0, headDim, T, acc, base);
      gemmRange(probs, 1, T, B_F32, dOut + qBase, 0, 1, qRow, dV + kvBase, kvRow, 0, T, 0, headDim, T, acc, base);
    }
  }
}

/**
 * One query row t of the backward (seen = t + 1 visible keys, T the row length): s holds the raw
 * scores Q·K and becomes P (zero past seen), dp holds dO·V and becomes dS (zero past seen);
 * st receives (log-sum-exp, D).
 */
function softmaxBackwardRow(s: usize, dp: usize, seen: i32, T: i32, scale: f32, st: usize): void {
  const sv = f32x4.splat(scale);
  let mv = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= seen; j += 4) mv = f32x4.max(mv, f32x4.mul(v128.load(s + (<usize>j << 2)), sv));
  mv = f32x4.max(mv, f32x4.shuffle(mv, mv, 2, 3, 0, 1));
  let mx = max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1));
  for (; j < seen; j++) mx = max(mx, load<f32>(s + (<usize>j << 2)) * scale);
  const m4 = f32x4.splat(mx);
  let sum4 = f32x4.splat(0);
  for (j = 0; j + 4 <= seen; j += 4) {
    const e = expf4(f32x4.sub(f32x4.mul(v128.load(s + (<usize>j << 2)), sv), m4));
    v128.store(s + (<usize>j << 2), e);
    sum4 = f32x4.add(sum4, e);
  }
  sum4 = f32x4.add(sum4, f32x4.shuffle(sum4, sum4, 2, 3, 0, 1));
  let sum = f32x4.extract_lane(sum4, 0) + f32x4.extract_lane(sum4, 1);
  for (; j < seen; j++) {
    const e = f32x4.extract_lane(expf4(f32x4.splat(load<f32>(s + (<usize>j << 2)) * scale - mx)), 0);
    store<f32>(s + (<usize>j << 2), e);
    sum += e;
  }
  const inv = f32x4.splat(<f32>1 / sum);
  let d4 = f32x4.splat(0);
  for (j = 0; j + 4 <= seen; j += 4) {
    const pj = f32x4.mul(v128.load(s + (<usize>j << 2)), inv);
    v128.store(s + (<usize>j << 2), pj);
    d4 = madd(pj, v128.load(dp + (<usize>j << 2)), d4);
  }
  d4 = f32x4.add(d4, f32x4.shuffle(d4, d4, 2, 3, 0, 1));
  let d = f32x4.extract_lane(d4, 0) + f32x4.extract_lane(d4, 1);
  for (; j < seen; j++) {
    const pj = load<f32>(s + (<usize>j << 2)) * f32x4.extract_lane(inv, 0);
    store<f32>(s + (<usize>j << 2), pj);
    d += pj * load<f32>(dp + (<usize>j << 2));
  }
  const dv = f32x4.splat(d);
  for (j = 0; j + 4 <= seen; j += 4) {
    const o = <usize>j << 2;
    v128.store(dp + o, f32x4.mul(f32x4.mul(v128.load(s + o), f32x4.sub(v128.load(dp + o), dv)), sv));
  }
  for (; j < seen; j++) {
    const o = <usize>j << 2;
    store<f32>(dp + o, load<f32>(s + o) * (load<f32>(dp + o) - d) * scale);
  }
  if (seen < T) {
    memory.fill(s + (<usize>seen << 2), 0, <usize>(T - seen) << 2);
    memory.fill(dp + (<usize>seen << 2), 0, <usize>(T - seen) << 2);
  }
  store<f32>(st, mx + <f32>logf64(<f64>sum));
  store<f32>(st, d, 4);
}

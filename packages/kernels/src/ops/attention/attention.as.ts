/**
 * Causal grouped-query attention of new queries over the KV cache (see OpContract['attention']).
 *
 * The work is cut into units of one (sequence b, kv head g, query t): a unit computes the queries
 * of all `heads / kvHeads` query heads that share kv head g, so the keys and values of g are read
 * once for the group. Units go to the threads round-robin (u = tid, tid + n, ...), which balances
 * the causal triangle of prefill (later queries see more keys). Per query head: the scores of the
 * visible keys four keys at a time (the matrix-vector loop of matvec.as.ts, keys kvRow apart),
 * softmax in f32 in the thread's scratch, then the probability-weighted sum of the values, 16
 * floats of the head at a time in four accumulators.
 */
import { expf4 } from '../../wasm/kernels/common.as';
import { dot4F32, dotF32 } from '../../wasm/kernels/matvec.as';
import { madd } from '../../wasm/kernels/simd.as';

/**
 * q f32 [B, T, H, Dh], caches f32 [S, L, Hkv, Dh] → y f32 [B, T, H, Dh]. Thread tid's scratch:
 * scratch + tid · scratchStride, (H / Hkv) · (startPos + T) f32. `rows` (0 when absent): i32
 * (slot, startPos) pairs, row b at its own slot and start (startPos is then the largest start).
 */
export function attention(
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
  scratch: usize,
  scratchStride: i32,
  rows: usize,
): void {
  const group = heads / kvHeads;
  const units = batch * kvHeads * tokens;
  const kvRowBytes = <usize>(kvHeads * headDim) << 2;
  const headBytes = <usize>headDim << 2;
  const probs = scratch + <usize>tid * scratchStride;
  for (let u = tid; u < units; u += nthreads) {
    const t = u % tokens;
    const rest = u / tokens;
    const g = rest % kvHeads;
    const b = rest / kvHeads;
    const rowSlot = rows ? load<i32>(rows + (<usize>b << 3)) : slot + b;
    const rowStart = rows ? load<i32>(rows + (<usize>b << 3) + 4) : startPos;
    const visible = rowStart + t + 1;
    const kvOffset = <usize>rowSlot * maxSeqLen * kvRowBytes + <usize>g * headBytes;
    for (let hh = 0; hh < group; hh++) {
      const h = g * group + hh;
      const at = ((<usize>(b * tokens + t) * heads + h) * headDim) << 2;
      const p = probs + ((<usize>hh * visible) << 2);
      scores(q + at, kCache + kvOffset, kvRowBytes, headDim, visible, scale, p);
      softmax(p, visible);
      weightedSum(p, vCache + kvOffset, kvRowBytes, headDim, visible, y + at);
    }
  }
}

/** s[j] = scale · q · k_j for j < n, the keys `stride` bytes apart. */
// @ts-ignore: decorator
@inline function scores(q: usize, k: usize, stride: usize, headDim: i32, n: i32, scale: f32, s: usize): void {
  const sv = f32x4.splat(scale);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    v128.store(s + (<usize>j << 2), f32x4.mul(dot4F32(q, k + <usize>j * stride, stride, headDim), sv));
  }
  for (; j < n; j++) store<f32>(s + (<usize>j << 2), dotF32(q, k + <usize>j * stride, headDim) * scale);
}

/** Softmax of s[0..n) in place (max subtracted). */
// @ts-ignore: decorator
@inline function softmax(s: usize, n: i32): void {
  let mv = f32x4.splat(-Infinity);
  let j = 0;
  for (; j + 4 <= n; j += 4) mv = f32x4.max(mv, v128.load(s + (<usize>j << 2)));
  mv = f32x4.max(mv, f32x4.shuffle(mv, mv, 2, 3, 0, 1));
  let mx = max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1));
  for (; j < n; j++) mx = max(mx, load<f32>(s + (<usize>j << 2)));
  const m4 = f32x4.splat(mx);
  let sum4 = f32x4.splat(0);
  j = 0;
  for (; j + 4 <= n; j += 4) {
    const e = expf4(f32x4.sub(v128.load(s + (<usize>j << 2)), m4));
    v128.store(s + (<usize>j << 2), e);
    sum4 = f32x4.add(sum4, e);
  }
  let tail = f32x4.splat(0);
  for (; j < n; j++) {
    const e = expf4(f32x4.splat(load<f32>(s + (<usize>j << 2)) - mx));
    store<f32>(s + (<usize>j << 2), f32x4.extract_lane(e, 0));
    tail = f32x4.add(tail, f32x4.replace_lane(f32x4.splat(0), 0, f32x4.extract_lane(e, 0)));
  }
  sum4 = f32x4.add(sum4, tail);
  sum4 = f32x4.add(sum4, f32x4.shuffle(sum4, sum4, 2, 3, 0, 1));
  const inv = f32x4.splat(<f32>1 / (f32x4.extract_lane(sum4, 0) + f32x4.extract_lane(sum4, 1)));
  for (j = 0; j + 4 <= n; j += 4) v128.store(s + (<usize>j << 2), f32x4.mul(v128.load(s + (<usize>j << 2)), inv));
  for (; j < n; j++) store<f32>(s + (<usize>j << 2), load<f32>(s + (<usize>j << 2)) * f32x4.extract_lane(inv, 0));
}

/** out[0..headDim) = Σ_j p[j] · v_j, the values `stride` bytes apart. */
// @ts-ignore: decorator
@inline function weightedSum(p: usize, v: usize, stride: usize, headDim: i32, n: i32, out: usize): void {
  let d = 0;
  for (; d + 16 <= headDim; d += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let vj = v + (<usize>d << 2);
    for (let j = 0; j < n; j++, vj += stride) {
      const pj = v128.load32_splat(p + (<usize>j << 2));
      a0 = madd(pj, v128.load(vj), a0);
      a1 = madd(pj, v128.load(vj, 16), a1);
      a2 = madd(pj, v128.load(vj, 32), a2);
      a3 = madd(pj, v128.load(vj, 48), a3);
    }
    const o = out + (<usize>d << 2);
    v128.store(o, a0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
  }
  for (; d + 4 <= headDim; d += 4) {
    let a = f32x4.splat(0);
    let vj = v + (<usize>d << 2);
    for (let j = 0; j < n; j++, vj += stride) a = madd(v128.load32_splat(p + (<usize>j << 2)), v128.load(vj), a);
    v128.store(out + (<usize>d << 2), a);
  }
  for (; d < headDim; d++) {
    let a: f32 = 0;
    let vj = v + (<usize>d << 2);
    for (let j = 0; j < n; j++, vj += stride) a += load<f32>(p + (<usize>j << 2)) * load<f32>(vj);
    store<f32>(out + (<usize>d << 2), a);
  }
}

import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { f32 } from '../views.js';
import { dot } from './matmul.js';

export function kvWrite([values]: readonly Tensor[], [cache]: readonly Tensor[], p: OpParams['kvWrite']): void {
  const vs = f32(values as Tensor);
  const cs = f32(cache as Tensor);
  const rowSize = p.kvHeads * p.headDim;
  for (let b = 0; b < p.batch; b++) {
    const source = b * p.tokens * rowSize;
    const target = ((p.slot + b) * p.maxSeqLen + p.startPos) * rowSize;
    cs.set(vs.subarray(source, source + p.tokens * rowSize), target);
  }
}

/**
 * For each query: scores against every visible cached key, softmax in f32 (max subtracted),
 * then the weighted sum of values. Query heads h·n_rep … h·n_rep+n_rep-1 share kv head h.
 */
export function attention(
  [q, kCache, vCache]: readonly Tensor[],
  [y]: readonly Tensor[],
  p: OpParams['attention'],
): void {
  const qs = f32(q as Tensor);
  const ks = f32(kCache as Tensor);
  const vs = f32(vCache as Tensor);
  const ys = f32(y as Tensor);
  const { headDim, heads, kvHeads, tokens, startPos, maxSeqLen, scale } = p;
  const groupSize = heads / kvHeads;
  const kvRow = kvHeads * headDim;
  const scores = new Float32Array(startPos + tokens);
  for (let b = 0; b < p.batch; b++) {
    const slotBase = (p.slot + b) * maxSeqLen * kvRow;
    for (let t = 0; t < tokens; t++) {
      const visible = startPos + t + 1;
      for (let h = 0; h < heads; h++) {
        const kvOffset = ((h / groupSize) | 0) * headDim;
        const qBase = ((b * tokens + t) * heads + h) * headDim;
        let max = Number.NEGATIVE_INFINITY;
        for (let s = 0; s < visible; s++) {
          const kBase = slotBase + s * kvRow + kvOffset;
          const score = dot(qs, qBase, ks, kBase, headDim) * scale;
          scores[s] = score;
          if (score > max) max = score;
        }
        let sum = 0;
        for (let s = 0; s < visible; s++) {
          const e = Math.exp((scores[s] as number) - max);
          scores[s] = e;
          sum += e;
        }
        ys.fill(0, qBase, qBase + headDim);
        for (let s = 0; s < visible; s++) {
          const weight = (scores[s] as number) / sum;
          const vBase = slotBase + s * kvRow + kvOffset;
          for (let d = 0; d < headDim; d++)
            ys[qBase + d] = (ys[qBase + d] as number) + weight * (vs[vBase + d] as number);
        }
      }
    }
  }
}

/**
 * Causal GQA attention backward, in the three passes the WebGPU kernel uses: per query the
 * log-sum-exp L of its scores and D = Σ_j p_j (dO · v_j) = dO · O; then dQ per query; then dK and
 * dV per key, summed over the queries that see it and the query heads of its kv group.
 */
export function attentionBackward(
  [q, k, v, dOut]: readonly Tensor[],
  [dQ, dK, dV, stats]: readonly Tensor[],
  p: OpParams['attentionBackward'],
): void {
  const qs = f32(q as Tensor);
  const ks = f32(k as Tensor);
  const vs = f32(v as Tensor);
  const dos = f32(dOut as Tensor);
  const dqs = f32(dQ as Tensor);
  const dks = f32(dK as Tensor);
  const dvs = f32(dV as Tensor);
  const st = f32(stats as Tensor);
  const { batch, tokens, heads, kvHeads, headDim, scale } = p;
  const group = heads / kvHeads;
  const qAt = (b: number, t: number, h: number) => ((b * tokens + t) * heads + h) * headDim;
  const kvAt = (b: number, s: number, g: number) => ((b * tokens + s) * kvHeads + g) * headDim;
  const score = (b: number, t: number, h: number, s: number) =>
    dot(qs, qAt(b, t, h), ks, kvAt(b, s, (h / group) | 0), headDim) * scale;
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < tokens; t++) {
      for (let h = 0; h < heads; h++) {
        let max = Number.NEGATIVE_INFINITY;
        for (let s = 0; s <= t; s++) max = Math.max(max, score(b, t, h, s));
        let sum = 0;
        for (let s = 0; s <= t; s++) sum += Math.exp(score(b, t, h, s) - max);
        const logSumExp = max + Math.log(sum);
        let d = 0;
        for (let s = 0; s <= t; s++) {
          const prob = Math.exp(score(b, t, h, s) - logSumExp);
          d += prob * dot(dos, qAt(b, t, h), vs, kvAt(b, s, (h / group) | 0), headDim);
        }
        const at = ((b * tokens + t) * heads + h) * 2;
        st[at] = logSumExp;
        st[at + 1] = d;
      }
    }
  }
  dqs.fill(0);
  dks.fill(0);
  dvs.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < tokens; t++) {
      for (let h = 0; h < heads; h++) {
        const at = ((b * tokens + t) * heads + h) * 2;
        const logSumExp = st[at] as number;
        const d = st[at + 1] as number;
        const g = (h / group) | 0;
        for (let s = 0; s <= t; s++) {
          const prob = Math.exp(score(b, t, h, s) - logSumExp);
          const dScore = prob * (dot(dos, qAt(b, t, h), vs, kvAt(b, s, g), headDim) - d) * scale;
          for (let e = 0; e < headDim; e++) {
            dqs[qAt(b, t, h) + e] = (dqs[qAt(b, t, h) + e] as number) + dScore * (ks[kvAt(b, s, g) + e] as number);
            dks[kvAt(b, s, g) + e] = (dks[kvAt(b, s, g) + e] as number) + dScore * (qs[qAt(b, t, h) + e] as number);
            dvs[kvAt(b, s, g) + e] = (dvs[kvAt(b, s, g) + e] as number) + prob * (dos[qAt(b, t, h) + e] as number);
          }
        }
      }
    }
  }
}

import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { f32 } from '../views.js';
import { gemm, into, rowMajor, transposed } from './gemm.js';

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

/** Queries per block of attention's scores: bounds the scratch to 64 × the visible positions. */
const QUERY_BLOCK = 64;

/**
 * For each query: scores against every visible cached key, softmax in f32 (max subtracted),
 * then the weighted sum of values. Query heads h·n_rep … h·n_rep+n_rep-1 share kv head h.
 * Per sequence and head, a block of queries at a time, as two matrix products on the strided
 * gemm (S = Q·Kᵀ, then Y = P·V, the keys a query may not see given probability 0): its register
 * blocking beats a dot product per (query, key) pair even counting the masked entries.
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
  const group = heads / kvHeads;
  const qRow = heads * headDim; // stride between positions of one head in q and y
  const kvRow = kvHeads * headDim; // ... in the caches
  const scores = new Float32Array(Math.min(tokens, QUERY_BLOCK) * (startPos + tokens));
  for (let b = 0; b < p.batch; b++) {
    for (let h = 0; h < heads; h++) {
      const kvBase = (p.slot + b) * maxSeqLen * kvRow + ((h / group) | 0) * headDim; // position 0
      for (let first = 0; first < tokens; first += QUERY_BLOCK) {
        const count = Math.min(QUERY_BLOCK, tokens - first);
        const visible = startPos + first + count; // the positions the block's last query sees
        const qBase = ((b * tokens + first) * heads + h) * headDim;
        gemm(rowMajor(qs, qRow, qBase), rowMajor(ks, kvRow, kvBase), into(scores, visible), count, visible, headDim);
        for (let r = 0; r < count; r++) {
          const row = r * visible;
          const seen = startPos + first + r + 1;
          let max = Number.NEGATIVE_INFINITY;
          for (let s = 0; s < seen; s++) {
            const score = (scores[row + s] as number) * scale;
            scores[row + s] = score;
            if (score > max) max = score;
          }
          let sum = 0;
          for (let s = 0; s < seen; s++) {
            const e = Math.exp((scores[row + s] as number) - max);
            scores[row + s] = e;
            sum += e;
          }
          for (let s = 0; s < seen; s++) scores[row + s] = (scores[row + s] as number) / sum;
          scores.fill(0, row + seen, row + visible);
        }
        gemm(
          rowMajor(scores, visible),
          transposed(vs, kvRow, kvBase),
          into(ys, qRow, { offset: qBase }),
          count,
          headDim,
          visible,
        );
      }
    }
  }
}

/**
 * Causal GQA attention backward, per sequence b and query head h (kv head g = h / group), as
 * matrix products over that head's [T, Dh] slices, in the order of the standard derivation:
 * S = Q·Kᵀ · scale, P = softmax over each row's visible keys (L its log-sum-exp), dP = dO·Vᵀ,
 * D = rowsum(P ⊙ dP) (= dO · O), dS = P ⊙ (dP - D) · scale, then dQ = dS·K, dK += dSᵀ·Q and
 * dV += Pᵀ·dO (summed over the query heads of the kv group). stats receives (L, D) per query, as
 * the WebGPU kernel leaves them (it splits the work into three passes to avoid atomics; one
 * thread needs no such split).
 *
 * The products run on the strided gemm over the full T × T square with the masked entries set
 * to zero: twice the arithmetic of the causal triangle, but its register blocking makes it about
 * four times faster than a dot product per (query, key) pair.
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
  const { batch, tokens: T, heads, kvHeads, headDim, scale } = p;
  const group = heads / kvHeads;
  const qRow = heads * headDim; // stride between positions of one head in q, dO and dQ
  const kvRow = kvHeads * headDim; // ... in k, v, dK and dV
  const probs = new Float32Array(T * T); // S, then P
  const dScores = new Float32Array(T * T); // dP, then dS
  dks.fill(0);
  dvs.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const qBase = (b * T * heads + h) * headDim; // [b, 0, h, 0]
      const kvBase = (b * T * kvHeads + ((h / group) | 0)) * headDim; // [b, 0, g, 0]
      // One head's [T, Dh] slices: rows qRow (or kvRow) apart from qBase (or kvBase).
      gemm(rowMajor(qs, qRow, qBase), rowMajor(ks, kvRow, kvBase), into(probs, T), T, T, headDim);
      gemm(rowMajor(dos, qRow, qBase), rowMajor(vs, kvRow, kvBase), into(dScores, T), T, T, headDim);
      for (let t = 0; t < T; t++) {
        const row = t * T;
        let max = Number.NEGATIVE_INFINITY;
        for (let s = 0; s <= t; s++) max = Math.max(max, (probs[row + s] as number) * scale);
        let sum = 0;
        for (let s = 0; s <= t; s++) {
          const e = Math.exp((probs[row + s] as number) * scale - max);
          probs[row + s] = e;
          sum += e;
        }
        const logSumExp = max + Math.log(sum);
        let d = 0;
        for (let s = 0; s <= t; s++) {
          const prob = (probs[row + s] as number) / sum;
          probs[row + s] = prob;
          d += prob * (dScores[row + s] as number);
        }
        for (let s = 0; s <= t; s++) {
          dScores[row + s] = (probs[row + s] as number) * ((dScores[row + s] as number) - d) * scale;
        }
        probs.fill(0, row + t + 1, row + T); // the keys after t are masked out
        dScores.fill(0, row + t + 1, row + T);
        const at = ((b * T + t) * heads + h) * 2;
        st[at] = logSumExp;
        st[at + 1] = d;
      }
      const kvOut = (data: Float32Array) => into(data, kvRow, { offset: kvBase, accumulate: true });
      gemm(rowMajor(dScores, T), transposed(ks, kvRow, kvBase), into(dqs, qRow, { offset: qBase }), T, headDim, T);
      gemm(transposed(dScores, T), transposed(qs, qRow, qBase), kvOut(dks), T, headDim, T);
      gemm(transposed(probs, T), transposed(dos, qRow, qBase), kvOut(dvs), T, headDim, T);
    }
  }
}

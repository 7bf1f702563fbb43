import { gemm, into, rowMajor, transposed } from '../../cpu/gemm.js';
import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

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
export const attentionBackward: CpuKernel<'attentionBackward'> = ({ q, k, v, dOut }, { dQ, dK, dV, stats }, p) => {
  const qs = f32(q);
  const ks = f32(k);
  const vs = f32(v);
  const dos = f32(dOut);
  const dqs = f32(dQ);
  const dks = f32(dK);
  const dvs = f32(dV);
  const st = f32(stats);
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
};

import { rowPlacement } from '../../cpu/cache-rows.js';
import { gemm, into, rowMajor, transposed } from '../../cpu/gemm.js';
import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

/** Queries per block of attention's scores: bounds the scratch to 64 × the visible positions. */
const QUERY_BLOCK = 64;

/**
 * For each query: scores against every visible cached key, softmax in f32 (max subtracted),
 * then the weighted sum of values. Query heads h·n_rep … h·n_rep+n_rep-1 share kv head h.
 * Per sequence and head, a block of queries at a time, as two matrix products on the strided
 * gemm (S = Q·Kᵀ, then Y = P·V, the keys a query may not see given probability 0): its register
 * blocking beats a dot product per (query, key) pair even counting the masked entries.
 */
export const attention: CpuKernel<'attention'> = ({ q, kCache, vCache, rows }, { y }, p) => {
  const placement = rowPlacement(rows, p);
  const qs = f32(q);
  const ks = f32(kCache);
  const vs = f32(vCache);
  const ys = f32(y);
  const { headDim, heads, kvHeads, tokens, maxSeqLen, scale } = p;
  const group = heads / kvHeads;
  const qRow = heads * headDim; // stride between positions of one head in q and y
  const kvRow = kvHeads * headDim; // ... in the caches
  // p.startPos is the largest row's start: the scratch fits every row.
  const scores = new Float32Array(Math.min(tokens, QUERY_BLOCK) * (p.startPos + tokens));
  for (let b = 0; b < p.batch; b++) {
    const { slot, startPos } = placement(b);
    for (let h = 0; h < heads; h++) {
      const kvBase = slot * maxSeqLen * kvRow + ((h / group) | 0) * headDim; // position 0
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
};

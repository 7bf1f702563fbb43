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

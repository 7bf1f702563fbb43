import { rowPlacement } from '../../cpu/cache-rows.js';
import type { CpuKernel } from '../../cpu/kernel.js';
import { f32 } from '../../cpu/views.js';

/**
 * Rotates each head's pairs by the table's angle for its position. The pairs are (2j, 2j+1) in
 * Meta's interleaved layout and (j, j + Dh/2) in Hugging Face's half-split layout.
 */
export const rope: CpuKernel<'rope'> = ({ x, table, rows }, { y }, p) => {
  const placement = rowPlacement(rows, p);
  const xs = f32(x);
  const cs = f32(table);
  const ys = f32(y);
  const half = p.headDim / 2;
  const interleaved = p.layout === 'interleaved';
  const sign = p.inverse ? -1 : 1;
  for (let b = 0; b < p.batch; b++) {
    const { startPos } = placement(b);
    for (let t = 0; t < p.tokens; t++) {
      const angles = (startPos + t) * half * 2;
      for (let h = 0; h < p.heads; h++) {
        const base = ((b * p.tokens + t) * p.heads + h) * p.headDim;
        for (let j = 0; j < half; j++) {
          const i0 = base + (interleaved ? 2 * j : j);
          const i1 = base + (interleaved ? 2 * j + 1 : j + half);
          const cos = cs[angles + 2 * j] as number;
          const sin = sign * (cs[angles + 2 * j + 1] as number);
          const x0 = xs[i0] as number;
          const x1 = xs[i1] as number;
          ys[i0] = x0 * cos - x1 * sin;
          ys[i1] = x0 * sin + x1 * cos;
        }
      }
    }
  }
};

import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { f32, i32, weightRowReader } from '../views.js';

export function embedding([table, ids]: readonly Tensor[], [y]: readonly Tensor[], p: OpParams['embedding']): void {
  const tokenIds = i32(ids as Tensor);
  const out = f32(y as Tensor);
  const readRow = weightRowReader(table as Tensor, p.dim);
  const scratch = new Float32Array(p.dim);
  for (let t = 0; t < p.tokens; t++) {
    const id = tokenIds[t] as number;
    if (id < 0 || id >= p.vocab) out.fill(0, t * p.dim, (t + 1) * p.dim);
    else out.set(readRow(id, scratch), t * p.dim);
  }
}

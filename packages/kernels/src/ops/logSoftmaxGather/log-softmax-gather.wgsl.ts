import { ROW_MAIN, ROW_REDUCTIONS, ROWS_HEADER } from '../../webgpu/reduce.js';

export const LOG_SOFTMAX_GATHER = `${ROWS_HEADER}
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
${ROW_REDUCTIONS}
${ROW_MAIN}
  // Reduce before looking at the id: a value read from storage is not uniform, and the
  // reductions' barriers must be reached by every thread.
  let m = row_max(lid, base, params.cols);
  let sum = row_sum_exp(lid, base, params.cols, m);
  let id = ids[r];
  if (lid == 0u) {
    let valid = id >= 0 && u32(id) < params.cols;   // a negative id is padding: log-prob 0
    y[r] = select(0.0, x[base + u32(max(id, 0))] - m - log(sum), valid);
  }
}`;

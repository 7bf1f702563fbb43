import { WORKGROUP } from '../../webgpu/kernel.js';
import { ROW_MAIN, ROW_REDUCTIONS, ROWS_HEADER } from '../../webgpu/reduce.js';

export const SOFTMAX = `${ROWS_HEADER}
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
${ROW_REDUCTIONS}
${ROW_MAIN}
  let m = row_max(lid, base, params.cols);
  let inverse = 1.0 / row_sum_exp(lid, base, params.cols, m);
  for (var c = lid; c < params.cols; c += ${WORKGROUP}u) { y[base + c] = exp(x[base + c] - m) * inverse; }
}`;

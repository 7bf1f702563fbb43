import { WORKGROUP } from '../../webgpu/kernel.js';
import { ROW_MAIN, ROW_REDUCTIONS, ROWS_HEADER } from '../../webgpu/reduce.js';

/** The first index of the maximum: ties go to the smaller index, as torch.argmax does. */
export const ARGMAX = `${ROWS_HEADER}
@group(0) @binding(1) var<storage, read_write> y: array<i32>;
@group(0) @binding(2) var<uniform> params: Params;
${ROW_REDUCTIONS}
${ROW_MAIN}
  var best = bitcast<f32>(0xff7fffffu);
  var best_index = 0xffffffffu;
  for (var c = lid; c < params.cols; c += ${WORKGROUP}u) {
    if (x[base + c] > best) { best = x[base + c]; best_index = c; }
  }
  partial[lid] = best;
  partial_index[lid] = best_index;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let v = partial[lid + stride];
      let i = partial_index[lid + stride];
      if (v > partial[lid] || (v == partial[lid] && i < partial_index[lid])) {
        partial[lid] = v;
        partial_index[lid] = i;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) { y[r] = i32(select(partial_index[0], 0u, partial_index[0] == 0xffffffffu)); }
}`;

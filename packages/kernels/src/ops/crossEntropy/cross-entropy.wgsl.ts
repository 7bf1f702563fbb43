import { WORKGROUP } from '../../webgpu/kernel.js';
import { uniformParams } from '../../webgpu/params.js';
import { ROW_MAIN, ROW_REDUCTIONS } from '../../webgpu/reduce.js';

export const CROSS_ENTROPY_PARAMS = uniformParams({ rows: 'u32', cols: 'u32', scale: 'f32' });

/**
 * Softmax cross-entropy and its gradient, a workgroup per row: loss = log Σ exp(x - max) - (x[id] - max),
 * dLogits = (softmax - onehot(id)) · scale; zeros for a row whose target is outside 0..V-1.
 */
export const CROSS_ENTROPY = /* wgsl */ `
${CROSS_ENTROPY_PARAMS.struct}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
${ROW_REDUCTIONS}
${ROW_MAIN}
  // Reduce before looking at the target: every thread must reach the reductions' barriers.
  let m = row_max(lid, base, params.cols);
  let sum = row_sum_exp(lid, base, params.cols, m);
  let id = targets[r];
  let valid = id >= 0 && u32(id) < params.cols;
  let g = select(0.0, params.scale, valid);
  let inverse = 1.0 / sum;
  for (var c = lid; c < params.cols; c += ${WORKGROUP}u) {
    let onehot = select(0.0, 1.0, valid && u32(id) == c);
    dx[base + c] = (exp(x[base + c] - m) * inverse - onehot) * g;
  }
  if (lid == 0u) { loss[r] = select(0.0, log(sum) - (x[base + u32(max(id, 0))] - m), valid); }
}`;

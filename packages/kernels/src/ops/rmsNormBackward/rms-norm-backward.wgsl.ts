import { WORKGROUP } from '../../webgpu/kernel.js';
import { uniformParams } from '../../webgpu/params.js';

export const RMS_NORM_BACKWARD_ROWS_PARAMS = uniformParams({ rows: 'u32', dim: 'u32', eps: 'f32' });
export const RMS_NORM_BACKWARD_WEIGHT_PARAMS = uniformParams({ rows: 'u32', dim: 'u32', accumulate: 'u32' });

/**
 * rmsNorm's backward, pass 1: a workgroup per row reduces Σx² and Σ dY·w·x together, writes dX and
 * the row's rstd (for pass 2).
 */
export const RMS_NORM_BACKWARD_ROWS = /* wgsl */ `
${RMS_NORM_BACKWARD_ROWS_PARAMS.struct}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;
var<workgroup> partial: array<vec2f, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= params.rows) { return; }
  let base = r * params.dim;
  var sums = vec2f(0.0);
  for (var i = lid; i < params.dim; i += ${WORKGROUP}u) {
    let xi = x[base + i];
    sums += vec2f(xi * xi, dy[base + i] * weight[i] * xi);
  }
  partial[lid] = sums;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  let rstd = inverseSqrt(partial[0].x / f32(params.dim) + params.eps);
  let coefficient = partial[0].y * rstd * rstd * rstd / f32(params.dim);
  for (var i = lid; i < params.dim; i += ${WORKGROUP}u) {
    dx[base + i] = dy[base + i] * weight[i] * rstd - x[base + i] * coefficient;
  }
  if (lid == 0u) { rstd_out[r] = rstd; }
}`;

/** Pass 2: a thread per column sums dY·x·rstd down the rows (no float atomics needed). */
export const RMS_NORM_BACKWARD_WEIGHT = /* wgsl */ `
${RMS_NORM_BACKWARD_WEIGHT_PARAMS.struct}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> rstd: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let d = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (d >= params.dim) { return; }
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) { sum += dy[r * params.dim + d] * x[r * params.dim + d] * rstd[r]; }
  if (params.accumulate == 1u) { dw[d] += sum; } else { dw[d] = sum; }
}`;

import { WORKGROUP } from '../../webgpu/kernel.js';
import { uniformParams } from '../../webgpu/params.js';
import { workgroupReductions } from '../../webgpu/reduce.js';

export const RMS_NORM_PARAMS = uniformParams({ rows: 'u32', dim: 'u32', eps: 'f32' });

/** A workgroup per row: threads sum squares over strided columns, reduce, then scale. */
export const RMS_NORM = /* wgsl */ `
${RMS_NORM_PARAMS.struct}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
${workgroupReductions(WORKGROUP)}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= params.rows) { return; }
  let base = r * params.dim;
  var sum = 0.0;
  for (var i = lid; i < params.dim; i += ${WORKGROUP}u) { sum += x[base + i] * x[base + i]; }
  let inverse = inverseSqrt(reduce_sum(lid, sum) / f32(params.dim) + params.eps);
  for (var i = lid; i < params.dim; i += ${WORKGROUP}u) { y[base + i] = x[base + i] * inverse * weight[i]; }
}`;

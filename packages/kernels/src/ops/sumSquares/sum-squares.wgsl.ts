import { WORKGROUP } from '../../webgpu/kernel.js';
import { uniformParams } from '../../webgpu/params.js';
import { workgroupReductions } from '../../webgpu/reduce.js';

export const SUM_SQUARES_PARTIALS_PARAMS = uniformParams({ size: 'u32', partials: 'u32', chunk: 'u32' });
export const SUM_SQUARES_TOTAL_PARAMS = uniformParams({ partials: 'u32', accumulate: 'u32' });

const REDUCE = workgroupReductions(WORKGROUP);

/** Pass 1: workgroup g of G sums the squares of its contiguous chunk (read with stride 256) into partials[g]. */
export const SUM_SQUARES_PARTIALS = /* wgsl */ `
${SUM_SQUARES_PARTIALS_PARAMS.struct}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
${REDUCE}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x;
  let end = min(params.size, (g + 1u) * params.chunk);
  var sum = 0.0;
  for (var i = g * params.chunk + lid; i < end; i += ${WORKGROUP}u) { sum += x[i] * x[i]; }
  let total = reduce_sum(lid, sum);
  if (lid == 0u) { partials[g] = total; }
}`;

/** Pass 2: one workgroup sums the partials into out[0] (adding to it when accumulating). */
export const SUM_SQUARES_TOTAL = /* wgsl */ `
${SUM_SQUARES_TOTAL_PARAMS.struct}
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> result: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
${REDUCE}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  for (var i = lid; i < params.partials; i += ${WORKGROUP}u) { sum += partials[i]; }
  let total = reduce_sum(lid, sum);
  if (lid == 0u) {
    if (params.accumulate == 1u) { result[0] += total; } else { result[0] = total; }
  }
}`;

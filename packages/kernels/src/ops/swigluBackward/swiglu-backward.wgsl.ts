import { WORKGROUP } from '../../webgpu/kernel.js';
import { uniformParams } from '../../webgpu/params.js';

export const SWIGLU_BACKWARD_PARAMS = uniformParams({ size: 'u32' });

/** swiglu's backward, a thread per element. exp(-z) overflows to +inf for z < -88: σ = 0, both gradients 0. */
export const SWIGLU_BACKWARD = /* wgsl */ `
${SWIGLU_BACKWARD_PARAMS.struct}
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> da: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (i >= params.size) { return; }
  let z = a[i];
  let g = dy[i];
  let sigma = 1.0 / (1.0 + exp(-z));
  da[i] = g * b[i] * sigma * (1.0 + z * (1.0 - sigma));
  db[i] = g * z * sigma;
}`;

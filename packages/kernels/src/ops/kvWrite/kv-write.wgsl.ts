import { WORKGROUP } from '../../webgpu/kernel.js';
import { uniformParams } from '../../webgpu/params.js';

export const KV_WRITE_PARAMS = uniformParams({
  tokens: 'u32',
  row: 'u32',
  start_pos: 'u32',
  slot: 'u32',
  max_seq_len: 'u32',
  size: 'u32',
});

/** A thread per element of the new values. */
export const KV_WRITE = /* wgsl */ `
${KV_WRITE_PARAMS.struct}
@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read_write> cache: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (i >= params.size) { return; }
  let e = i % params.row;                   // element within one position (kv_heads * head_dim)
  let bt = i / params.row;
  let t = bt % params.tokens;
  let b = bt / params.tokens;
  cache[((params.slot + b) * params.max_seq_len + params.start_pos + t) * params.row + e] = values[i];
}`;

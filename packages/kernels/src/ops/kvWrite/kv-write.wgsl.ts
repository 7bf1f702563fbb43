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

/**
 * A thread per element of the new values. `perRow`: row b goes to slot rows[2b] at positions
 * rows[2b + 1].. (the (slot, startPos) pairs of CacheRows), not to slot + b at start_pos...
 */
export function kvWriteShader(perRow: boolean): string {
  return /* wgsl */ `
${KV_WRITE_PARAMS.struct}
@group(0) @binding(0) var<storage, read> values: array<f32>;
${perRow ? '@group(0) @binding(1) var<storage, read> rows: array<u32>;' : ''}
@group(0) @binding(${perRow ? 2 : 1}) var<storage, read_write> cache: array<f32>;
@group(0) @binding(${perRow ? 3 : 2}) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (i >= params.size) { return; }
  let e = i % params.row;                   // element within one position (kv_heads * head_dim)
  let bt = i / params.row;
  let t = bt % params.tokens;
  let b = bt / params.tokens;
  let slot = ${perRow ? 'rows[2u * b]' : 'params.slot + b'};
  let start = ${perRow ? 'rows[2u * b + 1u]' : 'params.start_pos'};
  cache[(slot * params.max_seq_len + start + t) * params.row + e] = values[i];
}`;
}

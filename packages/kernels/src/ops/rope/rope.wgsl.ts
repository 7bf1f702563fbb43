import { WORKGROUP } from '../../webgpu/kernel.js';
import { uniformParams } from '../../webgpu/params.js';

export const ROPE_PARAMS = uniformParams({
  tokens: 'u32',
  heads: 'u32',
  head_dim: 'u32',
  start_pos: 'u32',
  pairs: 'u32',
  interleaved: 'u32',
  sin_sign: 'f32',
});

/**
 * One thread per rotated pair; cos/sin come from the float64-built table. `perRow`: row b's
 * tokens start at rows[2b + 1] (the (slot, startPos) pairs of CacheRows), not at start_pos.
 */
export function ropeShader(perRow: boolean): string {
  return /* wgsl */ `
${ROPE_PARAMS.struct}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> table: array<f32>;
${perRow ? '@group(0) @binding(2) var<storage, read> rows: array<u32>;' : ''}
@group(0) @binding(${perRow ? 3 : 2}) var<storage, read_write> y: array<f32>;
@group(0) @binding(${perRow ? 4 : 3}) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let p = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (p >= params.pairs) { return; }
  let half_dim = params.head_dim / 2u;
  let j = p % half_dim;
  let head = p / half_dim;                      // index over (b, t, h)
  let t = (head / params.heads) % params.tokens;
  let base = head * params.head_dim;
  let i0 = base + select(j, 2u * j, params.interleaved == 1u);
  let i1 = base + select(j + half_dim, 2u * j + 1u, params.interleaved == 1u);
  let start = ${perRow ? 'rows[2u * (head / (params.heads * params.tokens)) + 1u]' : 'params.start_pos'};
  let angle = ((start + t) * half_dim + j) * 2u;
  let c = table[angle];
  let s = table[angle + 1u] * params.sin_sign;   // -1: the inverse rotation (rope's backward)
  let x0 = x[i0];
  let x1 = x[i1];
  y[i0] = x0 * c - x1 * s;
  y[i1] = x0 * s + x1 * c;
}`;
}

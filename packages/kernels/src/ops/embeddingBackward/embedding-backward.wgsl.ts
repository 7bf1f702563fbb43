import { WORKGROUP } from '../../webgpu/kernel.js';
import { uniformParams } from '../../webgpu/params.js';

export const EMBEDDING_BACKWARD_PARAMS = uniformParams({ tokens: 'u32', dim: 'u32', size: 'u32', accumulate: 'u32' });

/**
 * embedding's backward without float atomics: a thread per (v, d) scans all T ids and sums the
 * matching rows of dY. O(V·D·T) work (every thread reads every id, a broadcast within a workgroup):
 * fine for the small vocabularies of character models, not for a 128k vocabulary.
 */
export const EMBEDDING_BACKWARD = /* wgsl */ `
${EMBEDDING_BACKWARD_PARAMS.struct}
@group(0) @binding(0) var<storage, read> ids: array<i32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dtable: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (i >= params.size) { return; }
  let v = i32(i / params.dim);
  let d = i % params.dim;
  var sum = 0.0;
  for (var t = 0u; t < params.tokens; t++) {
    if (ids[t] == v) { sum += dy[t * params.dim + d]; }
  }
  if (params.accumulate == 1u) { dtable[i] += sum; } else { dtable[i] = sum; }
}`;

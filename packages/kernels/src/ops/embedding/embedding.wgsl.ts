import type { WeightDType } from '../../dtype.js';
import { WORKGROUP } from '../../webgpu/kernel.js';
import { uniformParams } from '../../webgpu/params.js';
import { weightLoader } from '../../webgpu/weights.js';

export const EMBEDDING_PARAMS = uniformParams({
  tokens: 'u32',
  dim: 'u32',
  vocab: 'u32',
  row_start: 'u32',
  row_count: 'u32',
  scales_word: 'u32',
});

/** One thread per output element; one dispatch per table chunk, each copying the rows it holds. */
export function embeddingShader(dtype: WeightDType): string {
  const { declaration, load } = weightLoader(dtype);
  return /* wgsl */ `
${EMBEDDING_PARAMS.struct}
@group(0) @binding(0) var<storage, read> w: ${declaration};
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

${load}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (i >= params.tokens * params.dim) { return; }
  let t = i / params.dim;
  let d = i % params.dim;
  let id = ids[t];
  if (id < 0 || u32(id) >= params.vocab) {
    if (params.row_start == 0u) { y[i] = 0.0; }   // an invalid id gives a zero row, written once
    return;
  }
  let row = u32(id) - params.row_start;
  if (u32(id) >= params.row_start && row < params.row_count) {
    y[i] = load_w(row * params.dim + d);
  }
}`;
}

import { uniformParams } from '../../webgpu/params.js';
import { workgroupReductions } from '../../webgpu/reduce.js';

export const WORKGROUP = 64;
/** Keys scored per thread per block: fewer, larger blocks mean fewer barrier-bound reductions. */
const KEYS_PER_THREAD = 4;
export const BLOCK = WORKGROUP * KEYS_PER_THREAD;
/** Each thread accumulates head_dim / WORKGROUP output dims in registers; 4 slots allow head_dim 256. */
export const MAX_HEAD_DIM = 256;

export const ATTENTION_PARAMS = uniformParams({
  tokens: 'u32',
  heads: 'u32',
  kv_heads: 'u32',
  head_dim: 'u32',
  start_pos: 'u32',
  slot: 'u32',
  max_seq_len: 'u32',
  scale: 'f32',
  queries: 'u32',
  splits: 'u32',
  split_keys: 'u32',
});

export const COMBINE_PARAMS = uniformParams({ queries: 'u32', splits: 'u32', head_dim: 'u32' });

/**
 * A workgroup per query (b, t, h). Keys are visited in blocks of 256: each thread scores four keys,
 * the block's max and sum update a running (online) softmax, and each thread folds the block's
 * values into its own output dims. Only one block of scores is ever held, so the context length
 * is not bounded by workgroup memory. `perRow`: row b's queries sit in slot rows[2b] at positions
 * rows[2b + 1] + t (the (slot, startPos) pairs of CacheRows), not in slot + b at start_pos + t.
 */
export function attentionShader(split: boolean, perRow: boolean): string {
  const out = perRow ? 4 : 3;
  return /* wgsl */ `
${ATTENTION_PARAMS.struct}
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k_cache: array<f32>;
@group(0) @binding(2) var<storage, read> v_cache: array<f32>;
${perRow ? '@group(0) @binding(3) var<storage, read> rows: array<u32>;' : ''}
@group(0) @binding(${out}) var<storage, read_write> ${split ? 'partials' : 'y'}: array<f32>;
@group(0) @binding(${out + 1}) var<uniform> params: Params;

var<workgroup> query: array<f32, ${MAX_HEAD_DIM}>;
var<workgroup> scores: array<f32, ${BLOCK}>;
${workgroupReductions(WORKGROUP)}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let group_index = wid.x + wid.y * nwg.x;   // over (b, t, h) and then splits
  let query_index = group_index / params.splits;
  let split = group_index % params.splits;
  if (query_index >= params.queries) { return; }
  let h = query_index % params.heads;
  let t = (query_index / params.heads) % params.tokens;
  let b = query_index / (params.heads * params.tokens);
  let kv_row = params.kv_heads * params.head_dim;
  let row_slot = ${perRow ? 'rows[2u * b]' : 'params.slot + b'};
  let row_start = ${perRow ? 'rows[2u * b + 1u]' : 'params.start_pos'};
  let kv_base = row_slot * params.max_seq_len * kv_row + (h / (params.heads / params.kv_heads)) * params.head_dim;
  let q_base = query_index * params.head_dim;
  for (var d = lid; d < params.head_dim; d += ${WORKGROUP}u) { query[d] = q[q_base + d]; }
  workgroupBarrier();

  // This workgroup's keys: split_keys of them from split * split_keys, within the causal limit.
  let first_key = split * params.split_keys;
  let visible = min(row_start + t + 1u, first_key + params.split_keys);
  var running_max = bitcast<f32>(0xff7fffffu);
  var running_sum = 0.0;
  var acc = array<f32, ${MAX_HEAD_DIM / WORKGROUP}>();
  for (var s0 = first_key; s0 < visible; s0 += ${BLOCK}u) {
    // Scores of this block's keys, ${KEYS_PER_THREAD} per thread (strided so reads stay coalesced).
    var local_max = bitcast<f32>(0xff7fffffu);
    for (var i = 0u; i < ${KEYS_PER_THREAD}u; i++) {
      let j = lid + i * ${WORKGROUP}u;
      let s = s0 + j;
      var score = bitcast<f32>(0xff7fffffu);
      if (s < visible) {
        let k_base = kv_base + s * kv_row;
        var dot = 0.0;
        for (var d = 0u; d < params.head_dim; d++) { dot += query[d] * k_cache[k_base + d]; }
        score = dot * params.scale;
      }
      scores[j] = score;
      local_max = max(local_max, score);
    }
    let new_max = max(running_max, reduce_max(lid, local_max));
    var local_sum = 0.0;
    for (var i = 0u; i < ${KEYS_PER_THREAD}u; i++) {
      let j = lid + i * ${WORKGROUP}u;
      let p = select(0.0, exp(scores[j] - new_max), s0 + j < visible);
      scores[j] = p;
      local_sum += p;
    }
    let correction = exp(running_max - new_max);
    running_sum = running_sum * correction + reduce_sum(lid, local_sum);
    running_max = new_max;
    // Every thread's probabilities are in scores[]: the reduction ended on a barrier.
    let count = min(${BLOCK}u, visible - s0);
    for (var slot = 0u; slot < ${MAX_HEAD_DIM / WORKGROUP}u; slot++) {
      let d = lid + slot * ${WORKGROUP}u;
      if (d < params.head_dim) {
        var sum = acc[slot] * correction;
        for (var j = 0u; j < count; j++) { sum += scores[j] * v_cache[kv_base + (s0 + j) * kv_row + d]; }
        acc[slot] = sum;
      }
    }
    workgroupBarrier();
  }
  ${
    split
      ? `// Unnormalised: [max, sum, acc[0..head_dim)] per (query, split), for the combine pass.
  let out = group_index * (params.head_dim + 2u);
  if (lid == 0u) { partials[out] = running_max; partials[out + 1u] = running_sum; }
  for (var slot = 0u; slot < ${MAX_HEAD_DIM / WORKGROUP}u; slot++) {
    let d = lid + slot * ${WORKGROUP}u;
    if (d < params.head_dim) { partials[out + 2u + d] = acc[slot]; }
  }`
      : `for (var slot = 0u; slot < ${MAX_HEAD_DIM / WORKGROUP}u; slot++) {
    let d = lid + slot * ${WORKGROUP}u;
    if (d < params.head_dim) { y[q_base + d] = acc[slot] / running_sum; }
  }`
  }
}`;
}

/**
 * Merges the splits of each query: with M the largest split max, y = Σ e^(m_s - M) acc_s /
 * Σ e^(m_s - M) sum_s. A split that saw no key has sum 0 and the lowest finite max, so it adds
 * nothing.
 */
export const COMBINE = /* wgsl */ `
${COMBINE_PARAMS.struct}
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let query_index = wid.x + wid.y * nwg.x;
  if (query_index >= params.queries) { return; }
  let stride = params.head_dim + 2u;
  let base = query_index * params.splits * stride;
  var global_max = bitcast<f32>(0xff7fffffu);
  for (var s = 0u; s < params.splits; s++) { global_max = max(global_max, partials[base + s * stride]); }
  var total = 0.0;
  for (var s = 0u; s < params.splits; s++) {
    total += exp(partials[base + s * stride] - global_max) * partials[base + s * stride + 1u];
  }
  for (var d = lid; d < params.head_dim; d += ${WORKGROUP}u) {
    var sum = 0.0;
    for (var s = 0u; s < params.splits; s++) {
      sum += exp(partials[base + s * stride] - global_max) * partials[base + s * stride + 2u + d];
    }
    y[query_index * params.head_dim + d] = sum / total;
  }
}`;

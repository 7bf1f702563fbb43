import { KernelError } from '../../errors.js';
import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { binding, type GpuDispatch, grid, type KernelContext } from '../kernel.js';
import { workgroupReductions } from './reduce.js';

const WORKGROUP = 64;
/** Keys scored per thread per block: fewer, larger blocks mean fewer barrier-bound reductions. */
const KEYS_PER_THREAD = 4;
const BLOCK = WORKGROUP * KEYS_PER_THREAD;
/** Each thread accumulates head_dim / WORKGROUP output dims in registers; 4 slots allow head_dim 256. */
const MAX_HEAD_DIM = 256;

const KV_WRITE = /* wgsl */ `
struct Params { tokens: u32, row: u32, start_pos: u32, slot: u32, max_seq_len: u32, size: u32 }
@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(0) @binding(1) var<storage, read_write> cache: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i >= params.size) { return; }
  let e = i % params.row;                   // element within one position (kv_heads * head_dim)
  let bt = i / params.row;
  let t = bt % params.tokens;
  let b = bt / params.tokens;
  cache[((params.slot + b) * params.max_seq_len + params.start_pos + t) * params.row + e] = values[i];
}`;

/**
 * A workgroup per query (b, t, h). Keys are visited in blocks of 256: each thread scores four keys,
 * the block's max and sum update a running (online) softmax, and each thread folds the block's
 * values into its own output dims. Only one block of scores is ever held, so the context length
 * is not bounded by workgroup memory.
 */
const ATTENTION = /* wgsl */ `
struct Params {
  tokens: u32, heads: u32, kv_heads: u32, head_dim: u32,
  start_pos: u32, slot: u32, max_seq_len: u32, scale: f32, queries: u32,
}
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k_cache: array<f32>;
@group(0) @binding(2) var<storage, read> v_cache: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> query: array<f32, ${MAX_HEAD_DIM}>;
var<workgroup> scores: array<f32, ${BLOCK}>;
${workgroupReductions(WORKGROUP)}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let query_index = wid.x + wid.y * nwg.x;   // over (b, t, h)
  if (query_index >= params.queries) { return; }
  let h = query_index % params.heads;
  let t = (query_index / params.heads) % params.tokens;
  let b = query_index / (params.heads * params.tokens);
  let kv_row = params.kv_heads * params.head_dim;
  let kv_base = (params.slot + b) * params.max_seq_len * kv_row + (h / (params.heads / params.kv_heads)) * params.head_dim;
  let q_base = query_index * params.head_dim;
  for (var d = lid; d < params.head_dim; d += ${WORKGROUP}u) { query[d] = q[q_base + d]; }
  workgroupBarrier();

  let visible = params.start_pos + t + 1u;
  var running_max = bitcast<f32>(0xff7fffffu);
  var running_sum = 0.0;
  var acc = array<f32, ${MAX_HEAD_DIM / WORKGROUP}>();
  for (var s0 = 0u; s0 < visible; s0 += ${BLOCK}u) {
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
  for (var slot = 0u; slot < ${MAX_HEAD_DIM / WORKGROUP}u; slot++) {
    let d = lid + slot * ${WORKGROUP}u;
    if (d < params.head_dim) { y[q_base + d] = acc[slot] / running_sum; }
  }
}`;

export function kvWrite(
  [values]: readonly Tensor[],
  [cache]: readonly Tensor[],
  p: OpParams['kvWrite'],
  context: KernelContext,
): GpuDispatch[] {
  const row = p.kvHeads * p.headDim;
  const size = p.batch * p.tokens * row;
  return [
    {
      shader: KV_WRITE,
      bindings: [binding(values as Tensor, 'kvWrite'), binding(cache as Tensor, 'kvWrite')],
      uniforms: [
        ['u32', p.tokens],
        ['u32', row],
        ['u32', p.startPos],
        ['u32', p.slot],
        ['u32', p.maxSeqLen],
        ['u32', size],
      ],
      workgroups: grid(Math.ceil(size / 256), context),
    },
  ];
}

export function attention(
  [q, kCache, vCache]: readonly Tensor[],
  [y]: readonly Tensor[],
  p: OpParams['attention'],
  context: KernelContext,
): GpuDispatch[] {
  if (p.headDim > MAX_HEAD_DIM) {
    throw new KernelError(`attention: head_dim ${p.headDim} exceeds the WebGPU kernel's maximum of ${MAX_HEAD_DIM}`);
  }
  return [
    {
      shader: ATTENTION,
      bindings: [
        binding(q as Tensor, 'attention'),
        binding(kCache as Tensor, 'attention'),
        binding(vCache as Tensor, 'attention'),
        binding(y as Tensor, 'attention'),
      ],
      uniforms: [
        ['u32', p.tokens],
        ['u32', p.heads],
        ['u32', p.kvHeads],
        ['u32', p.headDim],
        ['u32', p.startPos],
        ['u32', p.slot],
        ['u32', p.maxSeqLen],
        ['f32', p.scale],
        ['u32', p.batch * p.tokens * p.heads],
      ],
      workgroups: grid(p.batch * p.tokens * p.heads, context),
    },
  ];
}

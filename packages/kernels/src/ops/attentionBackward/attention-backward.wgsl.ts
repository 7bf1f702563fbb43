import { uniformParams } from '../../webgpu/params.js';
import { workgroupReductions } from '../../webgpu/reduce.js';

/**
 * Causal GQA attention backward over a whole sequence, in three passes without float atomics:
 *   1. per query (b, t, h): L = log-sum-exp of its scores, D = Σ_j p_j (dO · v_j)  → stats
 *   2. per query: dQ = scale · Σ_j p_j (dO · v_j − D) k_j
 *   3. per key (b, s, kv head g): dV = Σ p dO and dK = scale · Σ p (dO · v_s − D) q over the queries
 *      t ≥ s of the group's heads — each key's sums are owned by one workgroup, so no races.
 * Blocks of 64 keys (or queries) go through workgroup memory; each thread keeps head_dim / 64
 * output dims in registers, so head_dim ≤ 256.
 */
const WORKGROUP = 64;
export const MAX_HEAD_DIM = 256;
const SLOTS = MAX_HEAD_DIM / WORKGROUP;

export const ATTENTION_BACKWARD_PARAMS = uniformParams({
  tokens: 'u32',
  heads: 'u32',
  kv_heads: 'u32',
  head_dim: 'u32',
  scale: 'f32',
  count: 'u32',
});

const COMMON = /* wgsl */ `
${ATTENTION_BACKWARD_PARAMS.struct}
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> d_out: array<f32>;

fn q_at(b: u32, t: u32, h: u32) -> u32 { return ((b * params.tokens + t) * params.heads + h) * params.head_dim; }
fn kv_at(b: u32, s: u32, g: u32) -> u32 { return ((b * params.tokens + s) * params.kv_heads + g) * params.head_dim; }
fn group_size() -> u32 { return params.heads / params.kv_heads; }

${workgroupReductions(WORKGROUP)}`;

/** Pass 1: one workgroup per query; threads take keys lid, lid + 64, ... */
export const STATS = /* wgsl */ `${COMMON}
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

fn score(qi: u32, ki: u32) -> f32 {
  var s = 0.0;
  for (var e = 0u; e < params.head_dim; e++) { s += q[qi + e] * k[ki + e]; }
  return s * params.scale;
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let query = wid.x + wid.y * nwg.x;       // over (b, t, h)
  if (query >= params.count) { return; }
  let h = query % params.heads;
  let t = (query / params.heads) % params.tokens;
  let b = query / (params.heads * params.tokens);
  let g = h / group_size();
  let qi = q_at(b, t, h);
  var m = bitcast<f32>(0xff7fffffu);
  for (var s = lid; s <= t; s += ${WORKGROUP}u) { m = max(m, score(qi, kv_at(b, s, g))); }
  m = reduce_max(lid, m);
  var sum = 0.0;
  for (var s = lid; s <= t; s += ${WORKGROUP}u) { sum += exp(score(qi, kv_at(b, s, g)) - m); }
  let lse = m + log(reduce_sum(lid, sum));
  var d = 0.0;
  for (var s = lid; s <= t; s += ${WORKGROUP}u) {
    let ki = kv_at(b, s, g);
    var dp = 0.0;
    for (var e = 0u; e < params.head_dim; e++) { dp += d_out[qi + e] * v[ki + e]; }
    d += exp(score(qi, ki) - lse) * dp;
  }
  d = reduce_sum(lid, d);
  if (lid == 0u) {
    stats[query * 2u] = lse;
    stats[query * 2u + 1u] = d;
  }
}`;

/** Pass 2: one workgroup per query; a block of 64 keys' dS in workgroup memory, then dims accumulate. */
export const DQ = /* wgsl */ `${COMMON}
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_q: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;
var<workgroup> d_score: array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let query = wid.x + wid.y * nwg.x;
  if (query >= params.count) { return; }
  let h = query % params.heads;
  let t = (query / params.heads) % params.tokens;
  let b = query / (params.heads * params.tokens);
  let g = h / group_size();
  let qi = q_at(b, t, h);
  let lse = stats[query * 2u];
  let d = stats[query * 2u + 1u];
  var acc = array<f32, ${SLOTS}>();
  for (var s0 = 0u; s0 <= t; s0 += ${WORKGROUP}u) {
    let s = s0 + lid;
    var ds = 0.0;
    if (s <= t) {
      let ki = kv_at(b, s, g);
      var sc = 0.0;
      var dp = 0.0;
      for (var e = 0u; e < params.head_dim; e++) {
        sc += q[qi + e] * k[ki + e];
        dp += d_out[qi + e] * v[ki + e];
      }
      ds = exp(sc * params.scale - lse) * (dp - d) * params.scale;
    }
    d_score[lid] = ds;
    workgroupBarrier();
    let count = min(${WORKGROUP}u, t + 1u - s0);
    for (var slot = 0u; slot < ${SLOTS}u; slot++) {
      let e = lid + slot * ${WORKGROUP}u;
      if (e < params.head_dim) {
        var sum = acc[slot];
        for (var j = 0u; j < count; j++) { sum += d_score[j] * k[kv_at(b, s0 + j, g) + e]; }
        acc[slot] = sum;
      }
    }
    workgroupBarrier();
  }
  for (var slot = 0u; slot < ${SLOTS}u; slot++) {
    let e = lid + slot * ${WORKGROUP}u;
    if (e < params.head_dim) { d_q[qi + e] = acc[slot]; }
  }
}`;

/** Pass 3: one workgroup per key (b, s, g); blocks of 64 (head, query) pairs of the group with t ≥ s. */
export const DKV = /* wgsl */ `${COMMON}
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> d_k: array<f32>;
@group(0) @binding(6) var<storage, read_write> d_v: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;
var<workgroup> prob: array<f32, ${WORKGROUP}>;
var<workgroup> d_score: array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let key = wid.x + wid.y * nwg.x;         // over (b, s, g)
  if (key >= params.count) { return; }
  let g = key % params.kv_heads;
  let s = (key / params.kv_heads) % params.tokens;
  let b = key / (params.kv_heads * params.tokens);
  let ki = kv_at(b, s, g);
  let group = group_size();
  let pairs = group * (params.tokens - s);   // (head in group, query t ≥ s)
  var acc_k = array<f32, ${SLOTS}>();
  var acc_v = array<f32, ${SLOTS}>();
  for (var p0 = 0u; p0 < pairs; p0 += ${WORKGROUP}u) {
    let pair = p0 + lid;
    var p = 0.0;
    var ds = 0.0;
    if (pair < pairs) {
      let h = g * group + pair % group;
      let t = s + pair / group;
      let qi = q_at(b, t, h);
      let query = (b * params.tokens + t) * params.heads + h;
      var sc = 0.0;
      var dp = 0.0;
      for (var e = 0u; e < params.head_dim; e++) {
        sc += q[qi + e] * k[ki + e];
        dp += d_out[qi + e] * v[ki + e];
      }
      p = exp(sc * params.scale - stats[query * 2u]);
      ds = p * (dp - stats[query * 2u + 1u]) * params.scale;
    }
    prob[lid] = p;
    d_score[lid] = ds;
    workgroupBarrier();
    let count = min(${WORKGROUP}u, pairs - p0);
    for (var slot = 0u; slot < ${SLOTS}u; slot++) {
      let e = lid + slot * ${WORKGROUP}u;
      if (e < params.head_dim) {
        var sk = acc_k[slot];
        var sv = acc_v[slot];
        for (var j = 0u; j < count; j++) {
          let pair_j = p0 + j;
          let qi = q_at(b, s + pair_j / group, g * group + pair_j % group);
          sk += d_score[j] * q[qi + e];
          sv += prob[j] * d_out[qi + e];
        }
        acc_k[slot] = sk;
        acc_v[slot] = sv;
      }
    }
    workgroupBarrier();
  }
  for (var slot = 0u; slot < ${SLOTS}u; slot++) {
    let e = lid + slot * ${WORKGROUP}u;
    if (e < params.head_dim) {
      d_k[ki + e] = acc_k[slot];
      d_v[ki + e] = acc_v[slot];
    }
  }
}`;

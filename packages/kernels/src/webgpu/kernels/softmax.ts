import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { binding, type GpuDispatch, grid, type KernelContext } from '../kernel.js';
import { workgroupReductions } from './reduce.js';

const WORKGROUP = 256;

/** Workgroup reductions shared by the row kernels below (a workgroup per row). */
const REDUCTIONS = /* wgsl */ `
var<workgroup> partial_index: array<u32, ${WORKGROUP}>;
${workgroupReductions(WORKGROUP)}

fn row_max(lid: u32, base: u32, cols: u32) -> f32 {
  var m = bitcast<f32>(0xff7fffffu);
  for (var c = lid; c < cols; c += ${WORKGROUP}u) { m = max(m, x[base + c]); }
  return reduce_max(lid, m);
}

fn row_sum_exp(lid: u32, base: u32, cols: u32, m: f32) -> f32 {
  var s = 0.0;
  for (var c = lid; c < cols; c += ${WORKGROUP}u) { s += exp(x[base + c] - m); }
  return reduce_sum(lid, s);
}`;

const HEADER = /* wgsl */ `
struct Params { rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;`;

const ROW = /* wgsl */ `
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= params.rows) { return; }
  let base = r * params.cols;`;

const SOFTMAX = `${HEADER}
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
${REDUCTIONS}
${ROW}
  let m = row_max(lid, base, params.cols);
  let inverse = 1.0 / row_sum_exp(lid, base, params.cols, m);
  for (var c = lid; c < params.cols; c += ${WORKGROUP}u) { y[base + c] = exp(x[base + c] - m) * inverse; }
}`;

const LOG_SOFTMAX_GATHER = `${HEADER}
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
${REDUCTIONS}
${ROW}
  // Reduce before looking at the id: a value read from storage is not uniform, and the
  // reductions' barriers must be reached by every thread.
  let m = row_max(lid, base, params.cols);
  let sum = row_sum_exp(lid, base, params.cols, m);
  let id = ids[r];
  if (lid == 0u) {
    let valid = id >= 0 && u32(id) < params.cols;   // a negative id is padding: log-prob 0
    y[r] = select(0.0, x[base + u32(max(id, 0))] - m - log(sum), valid);
  }
}`;

/** The first index of the maximum: ties go to the smaller index, as torch.argmax does. */
const ARGMAX = `${HEADER}
@group(0) @binding(1) var<storage, read_write> y: array<i32>;
@group(0) @binding(2) var<uniform> params: Params;
${REDUCTIONS}
${ROW}
  var best = bitcast<f32>(0xff7fffffu);
  var best_index = 0xffffffffu;
  for (var c = lid; c < params.cols; c += ${WORKGROUP}u) {
    if (x[base + c] > best) { best = x[base + c]; best_index = c; }
  }
  partial[lid] = best;
  partial_index[lid] = best_index;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let v = partial[lid + stride];
      let i = partial_index[lid + stride];
      if (v > partial[lid] || (v == partial[lid] && i < partial_index[lid])) {
        partial[lid] = v;
        partial_index[lid] = i;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) { y[r] = i32(select(partial_index[0], 0u, partial_index[0] == 0xffffffffu)); }
}`;

function rows(
  op: string,
  shader: string,
  tensors: readonly Tensor[],
  p: { rows: number; cols: number },
  context: KernelContext,
): GpuDispatch[] {
  return [
    {
      shader,
      bindings: tensors.map((t) => binding(t, op)),
      uniforms: [
        ['u32', p.rows],
        ['u32', p.cols],
      ],
      workgroups: grid(p.rows, context),
    },
  ];
}

export function softmax(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  p: OpParams['softmax'],
  context: KernelContext,
) {
  return rows('softmax', SOFTMAX, [...inputs, ...outputs], p, context);
}

export function logSoftmaxGather(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  p: OpParams['logSoftmaxGather'],
  context: KernelContext,
) {
  return rows('logSoftmaxGather', LOG_SOFTMAX_GATHER, [...inputs, ...outputs], p, context);
}

export function argmax(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  p: OpParams['argmax'],
  context: KernelContext,
) {
  return rows('argmax', ARGMAX, [...inputs, ...outputs], p, context);
}

/**
 * Softmax cross-entropy and its gradient, a workgroup per row: loss = log Σ exp(x - max) - (x[id] - max),
 * dLogits = (softmax - onehot(id)) · scale; zeros for a row whose target is outside 0..V-1.
 */
const CROSS_ENTROPY = /* wgsl */ `
struct Params { rows: u32, cols: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
${REDUCTIONS}
${ROW}
  // Reduce before looking at the target: every thread must reach the reductions' barriers.
  let m = row_max(lid, base, params.cols);
  let sum = row_sum_exp(lid, base, params.cols, m);
  let id = targets[r];
  let valid = id >= 0 && u32(id) < params.cols;
  let g = select(0.0, params.scale, valid);
  let inverse = 1.0 / sum;
  for (var c = lid; c < params.cols; c += ${WORKGROUP}u) {
    let onehot = select(0.0, 1.0, valid && u32(id) == c);
    dx[base + c] = (exp(x[base + c] - m) * inverse - onehot) * g;
  }
  if (lid == 0u) { loss[r] = select(0.0, log(sum) - (x[base + u32(max(id, 0))] - m), valid); }
}`;

export function crossEntropy(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  p: OpParams['crossEntropy'],
  context: KernelContext,
): GpuDispatch[] {
  return [
    {
      shader: CROSS_ENTROPY,
      bindings: [...inputs, ...outputs].map((t) => binding(t, 'crossEntropy')),
      uniforms: [
        ['u32', p.rows],
        ['u32', p.cols],
        ['f32', p.scale],
      ],
      workgroups: grid(p.rows, context),
    },
  ];
}

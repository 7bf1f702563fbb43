import type { Tensor } from '../tensor.js';
import { binding, type GpuDispatch, grid, type KernelContext, WORKGROUP } from './kernel.js';
import { uniformParams } from './params.js';

/**
 * WGSL for workgroup-wide reductions, shared by every kernel that reduces a row or a block:
 * `reduce_sum(lid, v)` and `reduce_max(lid, v)` return the reduction over all `size` threads of
 * the workgroup to every thread. Both end on a barrier, so they may be called back to back, and
 * both must be reached by every thread (uniform control flow). Declares `partial`, which a kernel
 * may also use directly between reductions (argmax does).
 */
export function workgroupReductions(size: number): string {
  const reduce = (name: string, combine: string) => /* wgsl */ `
fn ${name}(lid: u32, value: f32) -> f32 {
  partial[lid] = value;
  workgroupBarrier();
  for (var stride = ${size / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] = ${combine}; }
    workgroupBarrier();
  }
  let result = partial[0];
  workgroupBarrier();
  return result;
}`;
  return /* wgsl */ `
var<workgroup> partial: array<f32, ${size}>;
${reduce('reduce_sum', 'partial[lid] + partial[lid + stride]')}
${reduce('reduce_max', 'max(partial[lid], partial[lid + stride])')}`;
}

/**
 * The row kernels (softmax, logSoftmaxGather, argmax, crossEntropy) run a workgroup per row of
 * x [rows, cols]. Their shaders start with ROWS_HEADER (Params and the x binding), declare their
 * other bindings, add ROW_REDUCTIONS, and open `main` with ROW_MAIN, which leaves `r` (the row),
 * `base` (its first element) and `lid` in scope.
 */
export const ROWS_PARAMS = uniformParams({ rows: 'u32', cols: 'u32' });

export const ROWS_HEADER = /* wgsl */ `
${ROWS_PARAMS.struct}
@group(0) @binding(0) var<storage, read> x: array<f32>;`;

/** Workgroup reductions shared by the row kernels, plus the row max and the row's Σ exp(x - max). */
export const ROW_REDUCTIONS = /* wgsl */ `
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

export const ROW_MAIN = /* wgsl */ `
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= params.rows) { return; }
  let base = r * params.cols;`;

/** The one dispatch of a row kernel with ROWS_PARAMS: a workgroup per row. */
export function planRows(
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
      uniforms: ROWS_PARAMS.values(p),
      workgroups: grid(p.rows, context),
    },
  ];
}

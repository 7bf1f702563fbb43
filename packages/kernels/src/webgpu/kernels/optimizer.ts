/** WGSL of the optimizer step and of sumSquares (gradient-norm clipping). */
import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { binding, type GpuDispatch, grid, type KernelContext } from '../kernel.js';
import { workgroupReductions } from './reduce.js';

const WORKGROUP = 256;

/** AdamW, a thread per element, in place. */
const ADAMW = /* wgsl */ `
struct Params {
  size: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32, bias1: f32, bias2: f32, grad_scale: f32,
}
@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (i >= params.size) { return; }
  let g = grad[i] * params.grad_scale;
  let mi = params.beta1 * m[i] + (1.0 - params.beta1) * g;
  let vi = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let decayed = param[i] * (1.0 - params.lr * params.weight_decay);
  param[i] = decayed - params.lr * (mi / params.bias1) / (sqrt(vi / params.bias2) + params.eps);
}`;

export function adamwStep(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  p: OpParams['adamwStep'],
  context: KernelContext,
): GpuDispatch[] {
  return [
    {
      shader: ADAMW,
      bindings: [...inputs, ...outputs].map((t) => binding(t, 'adamwStep')),
      uniforms: [
        ['u32', p.size],
        ['f32', p.lr],
        ['f32', p.beta1],
        ['f32', p.beta2],
        ['f32', p.eps],
        ['f32', p.weightDecay],
        ['f32', p.bias1],
        ['f32', p.bias2],
        ['f32', p.gradScale],
      ],
      workgroups: grid(Math.ceil(p.size / WORKGROUP), context),
    },
  ];
}

const REDUCE = workgroupReductions(WORKGROUP);

/** Pass 1: workgroup g of G sums the squares of its contiguous chunk (read with stride 256) into partials[g]. */
const SUM_SQUARES_PARTIALS = /* wgsl */ `
struct Params { size: u32, partials: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
${REDUCE}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x;
  let end = min(params.size, (g + 1u) * params.chunk);
  var sum = 0.0;
  for (var i = g * params.chunk + lid; i < end; i += ${WORKGROUP}u) { sum += x[i] * x[i]; }
  let total = reduce_sum(lid, sum);
  if (lid == 0u) { partials[g] = total; }
}`;

/** Pass 2: one workgroup sums the partials into out[0] (adding to it when accumulating). */
const SUM_SQUARES_TOTAL = /* wgsl */ `
struct Params { partials: u32, accumulate: u32 }
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> result: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;
${REDUCE}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  for (var i = lid; i < params.partials; i += ${WORKGROUP}u) { sum += partials[i]; }
  let total = reduce_sum(lid, sum);
  if (lid == 0u) {
    if (params.accumulate == 1u) { result[0] += total; } else { result[0] = total; }
  }
}`;

export function sumSquares(
  [x]: readonly Tensor[],
  [out, partials]: readonly Tensor[],
  p: OpParams['sumSquares'],
): GpuDispatch[] {
  const op = 'sumSquares';
  return [
    {
      shader: SUM_SQUARES_PARTIALS,
      bindings: [binding(x as Tensor, op), binding(partials as Tensor, op)],
      uniforms: [
        ['u32', p.size],
        ['u32', p.partials],
        ['u32', Math.ceil(p.size / p.partials)],
      ],
      workgroups: [p.partials],
    },
    {
      shader: SUM_SQUARES_TOTAL,
      bindings: [binding(partials as Tensor, op), binding(out as Tensor, op)],
      uniforms: [
        ['u32', p.partials],
        ['u32', p.accumulate ? 1 : 0],
      ],
      workgroups: [1],
    },
  ];
}

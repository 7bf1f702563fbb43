import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { binding, type GpuDispatch, grid, type KernelContext } from '../kernel.js';

const WORKGROUP = 256;

/** One thread per element; `expression` combines a[i] and b[i]. */
function binaryShader(expression: string): string {
  return /* wgsl */ `
struct Params { size: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (i >= params.size) { return; }
  let x = a[i];
  let z = b[i];
  y[i] = ${expression};
}`;
}

const SWIGLU = binaryShader('x / (1.0 + exp(-x)) * z');
const ADD = binaryShader('x + z');

function binary(
  op: string,
  shader: string,
  [a, b]: readonly Tensor[],
  [y]: readonly Tensor[],
  size: number,
  context: KernelContext,
): GpuDispatch[] {
  return [
    {
      shader,
      bindings: [binding(a as Tensor, op), binding(b as Tensor, op), binding(y as Tensor, op)],
      uniforms: [['u32', size]],
      workgroups: grid(Math.ceil(size / WORKGROUP), context),
    },
  ];
}

export function swiglu(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  { size }: OpParams['swiglu'],
  context: KernelContext,
): GpuDispatch[] {
  return binary('swiglu', SWIGLU, inputs, outputs, size, context);
}

export function add(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  { size }: OpParams['add'],
  context: KernelContext,
): GpuDispatch[] {
  return binary('add', ADD, inputs, outputs, size, context);
}

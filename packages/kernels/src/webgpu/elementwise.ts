import type { Tensor } from '../tensor.js';
import { binding, type GpuDispatch, grid, type KernelContext, WORKGROUP } from './kernel.js';
import { uniformParams } from './params.js';

const PARAMS = uniformParams({ size: 'u32' });

/**
 * The shader of an elementwise op of two inputs, a thread per element: `expression` combines
 * x = a[i] and z = b[i] into y[i].
 */
export function binaryShader(expression: string): string {
  return /* wgsl */ `
${PARAMS.struct}
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

/** The one dispatch of a binaryShader over `size` elements. */
export function planBinary(
  op: string,
  shader: string,
  { a, b }: { a: Tensor; b: Tensor },
  { y }: { y: Tensor },
  size: number,
  context: KernelContext,
): GpuDispatch[] {
  return [
    {
      shader,
      bindings: [binding(a, op), binding(b, op), binding(y, op)],
      uniforms: PARAMS.values({ size }),
      workgroups: grid(Math.ceil(size / WORKGROUP), context),
    },
  ];
}

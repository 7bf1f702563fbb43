import type { WeightDType } from '../../dtype.js';
import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { binding, chunksOf, type GpuDispatch, grid, type KernelContext } from '../kernel.js';
import { scalesWord, weightLoader } from './weights.js';

/**
 * y = x · wᵀ, one dispatch per weight chunk (a chunk holds weight rows n_offset..n_offset+n_count).
 * Decode (M = 1) is bandwidth-bound: a workgroup per output, threads stride over K and reduce.
 * Prefill (M > 1) is compute-bound: 32 x 32 output tiles, K in steps of 16 through workgroup
 * memory, each of the 16 x 16 threads computing a 2 x 2 block.
 */
const PARAMS = `struct Params { M: u32, N: u32, K: u32, n_offset: u32, n_count: u32, scales_word: u32 }`;

const VECTOR_WORKGROUP = 256;

function matvecShader(dtype: WeightDType): string {
  const { declaration, load } = weightLoader(dtype);
  return /* wgsl */ `
${PARAMS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: ${declaration};
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
var<workgroup> partial: array<f32, ${VECTOR_WORKGROUP}>;

${load}

@compute @workgroup_size(${VECTOR_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = wid.x + wid.y * nwg.x;          // row of this weight chunk
  if (n >= params.n_count) { return; }     // uniform per workgroup: safe before the barriers
  let row = n * params.K;
  var sum = 0.0;
  for (var k = lid; k < params.K; k += ${VECTOR_WORKGROUP}u) {
    sum += x[k] * load_w(row + k);
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var stride = ${VECTOR_WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { y[params.n_offset + n] = partial[0]; }
}`;
}

const TILE = 32;
const TILE_K = 16;

function tiledShader(dtype: WeightDType): string {
  const { declaration, load } = weightLoader(dtype);
  return /* wgsl */ `
${PARAMS}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: ${declaration};
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
var<workgroup> x_tile: array<array<f32, ${TILE_K}>, ${TILE}>;
var<workgroup> w_tile: array<array<f32, ${TILE_K}>, ${TILE}>;

${load}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * ${TILE}u;
  let n0 = wid.x * ${TILE}u;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  for (var k0 = 0u; k0 < params.K; k0 += ${TILE_K}u) {
    // 256 threads load the 32 x 16 tiles of x and w, two elements each.
    for (var e = li; e < ${TILE * TILE_K}u; e += 256u) {
      let r = e / ${TILE_K}u;
      let c = e % ${TILE_K}u;
      let k = k0 + c;
      let m = m0 + r;
      let n = n0 + r;
      x_tile[r][c] = select(0.0, x[m * params.K + k], m < params.M && k < params.K);
      w_tile[r][c] = select(0.0, load_w(n * params.K + k), n < params.n_count && k < params.K);
    }
    workgroupBarrier();
    for (var c = 0u; c < ${TILE_K}u; c++) {
      let a0 = x_tile[lid.y * 2u][c];
      let a1 = x_tile[lid.y * 2u + 1u][c];
      let b0 = w_tile[lid.x * 2u][c];
      let b1 = w_tile[lid.x * 2u + 1u][c];
      acc[0] += a0 * b0;
      acc[1] += a0 * b1;
      acc[2] += a1 * b0;
      acc[3] += a1 * b1;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 2u + i / 2u;
    let n = n0 + lid.x * 2u + i % 2u;
    if (m < params.M && n < params.n_count) { y[m * params.N + params.n_offset + n] = acc[i]; }
  }
}`;
}

const shaders = new Map<string, string>();
function cached(key: string, build: () => string): string {
  let shader = shaders.get(key);
  if (!shader) {
    shader = build();
    shaders.set(key, shader);
  }
  return shader;
}

export function matmul(
  [x, w]: readonly Tensor[],
  [y]: readonly Tensor[],
  { M, N, K, weightDType }: OpParams['matmul'],
  context: KernelContext,
): GpuDispatch[] {
  const vector = M === 1;
  const shader = vector
    ? cached(`vec-${weightDType}`, () => matvecShader(weightDType))
    : cached(`tiled-${weightDType}`, () => tiledShader(weightDType));
  const xBinding = binding(x as Tensor, 'matmul');
  const yBinding = binding(y as Tensor, 'matmul');
  return chunksOf(w as Tensor).map((chunk) => ({
    shader,
    bindings: [xBinding, { buffer: chunk.buffer, offset: 0, size: chunk.byteLength }, yBinding],
    uniforms: [
      ['u32', M],
      ['u32', N],
      ['u32', K],
      ['u32', chunk.rowStart],
      ['u32', chunk.rowCount],
      ['u32', scalesWord(weightDType, chunk.rowCount * K)],
    ],
    workgroups: vector ? grid(chunk.rowCount, context) : [Math.ceil(chunk.rowCount / TILE), Math.ceil(M / TILE)],
  }));
}

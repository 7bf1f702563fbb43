/** WGSL of the backward ops (f32): matmul's two gradients, rmsNorm's, swiglu's, embedding's. */
import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { binding, type GpuDispatch, grid, type KernelContext } from '../kernel.js';

const WORKGROUP = 256;
/** Output tile of the gradient matmuls: TILE × TILE, K in steps of TILE_K, 4 × 4 outputs per thread. */
const TILE = 64;
const TILE_K = 16;
/** Row stride of the k-major workgroup tiles, in floats: 4 floats of padding spread the stores over banks. */
const STRIDE = TILE + 4;

/**
 * WGSL reading 4 consecutive elements `index .. index + 3` of `buffer` into a vec4, zeros where
 * `valid` is false or past `limit`_end: rows of these operands need not be multiples of 4. (The
 * discarded reads may fall past the buffer; WebGPU's robust buffer access keeps them defined.)
 */
function load4(buffer: string, index: string, valid: string, limit: string): string {
  return `vec4f(${[0, 1, 2, 3]
    .map((t) => `select(0.0, ${buffer}[${index} + ${t}u], ${valid} && ${limit} + ${t}u < ${limit}_end)`)
    .join(', ')})`;
}

/**
 * c [rows, cols] (+)= a · b over `inner`, b [inner, cols] row-major; a is [rows, inner] row-major
 * (matmulGradInput: dY · W) or stored transposed as [inner, rows] (matmulGradWeight: dYᵀ · X).
 * As the forward tiled matmul: 64 × 64 output tiles, tiles held k-major in workgroup memory so a
 * thread reads its 4 rows of a and 4 columns of b as two vec4s per k, and a 4 × 4 block of sums
 * per thread in registers. Each thread loads one quad of each tile per K step, along whichever
 * axis is contiguous in memory.
 */
function tiledShader(transposedA: boolean): string {
  // Tile b (and a transposed) are [k][i] in memory already: thread li loads k row li / 16, quad li % 16.
  const loadKMajor = (buffer: string, tile: string, first: string, count: string) => `{
    let k = p0 + li / 16u;
    let at = ${first} + (li % 16u) * 4u;
    let at_end = ${count};
    ${tile}[(li / 16u) * ${STRIDE / 4}u + li % 16u] = ${load4(buffer, `k * ${count} + at`, 'k < params.inner', 'at')};
  }`;
  // Tile a from [rows, inner]: thread li loads row li / 4, a quad of k at (li % 4) * 4, and
  // scatters it k-major.
  const loadRowMajorA = `{
    let i = i0 + li / 4u;
    let k = p0 + (li % 4u) * 4u;
    let k_end = params.inner;
    let quad = ${load4('a', 'i * params.inner + k', 'i < params.rows', 'k')};
    for (var t = 0u; t < 4u; t++) {
      let at = ((li % 4u) * 4u + t) * ${STRIDE}u + li / 4u;
      tile_a[at / 4u][at % 4u] = quad[t];
    }
  }`;
  return /* wgsl */ `
struct Params { rows: u32, cols: u32, inner: u32, accumulate: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
var<workgroup> tile_a: array<vec4f, ${(TILE_K * STRIDE) / 4}>;   // [k][i]
var<workgroup> tile_b: array<vec4f, ${(TILE_K * STRIDE) / 4}>;   // [k][j]

@compute @workgroup_size(${TILE / 4}, ${TILE / 4})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let i0 = wid.y * ${TILE}u;
  let j0 = wid.x * ${TILE}u;
  // acc[r] holds output row lid.y * 4 + r, columns lid.x * 4 .. + 3.
  var acc: array<vec4f, 4>;
  for (var p0 = 0u; p0 < params.inner; p0 += ${TILE_K}u) {
    ${transposedA ? loadKMajor('a', 'tile_a', 'i0', 'params.rows') : loadRowMajorA}
    ${loadKMajor('b', 'tile_b', 'j0', 'params.cols')}
    workgroupBarrier();
    for (var k = 0u; k < ${TILE_K}u; k++) {
      let va = tile_a[k * ${STRIDE / 4}u + lid.y];
      let vb = tile_b[k * ${STRIDE / 4}u + lid.x];
      for (var r = 0u; r < 4u; r++) { acc[r] += va[r] * vb; }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let i = i0 + lid.y * 4u + r;
    for (var t = 0u; t < 4u; t++) {
      let j = j0 + lid.x * 4u + t;
      if (i < params.rows && j < params.cols) {
        let index = i * params.cols + j;
        if (params.accumulate == 1u) { c[index] += acc[r][t]; } else { c[index] = acc[r][t]; }
      }
    }
  }
}`;
}

const GRAD_INPUT = tiledShader(false);
const GRAD_WEIGHT = tiledShader(true);

function tiled(
  op: string,
  shader: string,
  tensors: readonly Tensor[],
  rows: number,
  cols: number,
  inner: number,
  accumulate: boolean,
): GpuDispatch[] {
  return [
    {
      shader,
      bindings: tensors.map((t) => binding(t, op)),
      uniforms: [
        ['u32', rows],
        ['u32', cols],
        ['u32', inner],
        ['u32', accumulate ? 1 : 0],
      ],
      workgroups: [Math.max(1, Math.ceil(cols / TILE)), Math.max(1, Math.ceil(rows / TILE))],
    },
  ];
}

export function matmulGradInput(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  { M, N, K }: OpParams['matmulGradInput'],
): GpuDispatch[] {
  // dX [M, K] = dY [M, N] · W [N, K]
  return tiled('matmulGradInput', GRAD_INPUT, [...inputs, ...outputs], M, K, N, false);
}

export function matmulGradWeight(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  { M, N, K, accumulate }: OpParams['matmulGradWeight'],
): GpuDispatch[] {
  // dW [N, K] = dYᵀ [N, M] · X [M, K], dY stored [M, N]
  return tiled('matmulGradWeight', GRAD_WEIGHT, [...inputs, ...outputs], N, K, M, accumulate);
}

/**
 * rmsNorm's backward, pass 1: a workgroup per row reduces Σx² and Σ dY·w·x together, writes dX and
 * the row's rstd (for pass 2).
 */
const RMS_NORM_BACKWARD_ROWS = /* wgsl */ `
struct Params { rows: u32, dim: u32, eps: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;
var<workgroup> partial: array<vec2f, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= params.rows) { return; }
  let base = r * params.dim;
  var sums = vec2f(0.0);
  for (var i = lid; i < params.dim; i += ${WORKGROUP}u) {
    let xi = x[base + i];
    sums += vec2f(xi * xi, dy[base + i] * weight[i] * xi);
  }
  partial[lid] = sums;
  workgroupBarrier();
  for (var stride = ${WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  let rstd = inverseSqrt(partial[0].x / f32(params.dim) + params.eps);
  let coefficient = partial[0].y * rstd * rstd * rstd / f32(params.dim);
  for (var i = lid; i < params.dim; i += ${WORKGROUP}u) {
    dx[base + i] = dy[base + i] * weight[i] * rstd - x[base + i] * coefficient;
  }
  if (lid == 0u) { rstd_out[r] = rstd; }
}`;

/** Pass 2: a thread per column sums dY·x·rstd down the rows (no float atomics needed). */
const RMS_NORM_BACKWARD_WEIGHT = /* wgsl */ `
struct Params { rows: u32, dim: u32, accumulate: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> rstd: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let d = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (d >= params.dim) { return; }
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) { sum += dy[r * params.dim + d] * x[r * params.dim + d] * rstd[r]; }
  if (params.accumulate == 1u) { dw[d] += sum; } else { dw[d] = sum; }
}`;

export function rmsNormBackward(
  [x, weight, dY]: readonly Tensor[],
  [dX, dWeight, rstd]: readonly Tensor[],
  { rows, dim, eps, accumulate }: OpParams['rmsNormBackward'],
  context: KernelContext,
): GpuDispatch[] {
  const op = 'rmsNormBackward';
  const bind = (t: Tensor | undefined) => binding(t as Tensor, op);
  return [
    {
      shader: RMS_NORM_BACKWARD_ROWS,
      bindings: [bind(x), bind(weight), bind(dY), bind(dX), bind(rstd)],
      uniforms: [
        ['u32', rows],
        ['u32', dim],
        ['f32', eps],
      ],
      workgroups: grid(rows, context),
    },
    {
      shader: RMS_NORM_BACKWARD_WEIGHT,
      bindings: [bind(x), bind(dY), bind(rstd), bind(dWeight)],
      uniforms: [
        ['u32', rows],
        ['u32', dim],
        ['u32', accumulate ? 1 : 0],
      ],
      workgroups: grid(Math.ceil(dim / WORKGROUP), context),
    },
  ];
}

/** swiglu's backward, a thread per element. exp(-z) overflows to +inf for z < -88: σ = 0, both gradients 0. */
const SWIGLU_BACKWARD = /* wgsl */ `
struct Params { size: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> da: array<f32>;
@group(0) @binding(4) var<storage, read_write> db: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (i >= params.size) { return; }
  let z = a[i];
  let g = dy[i];
  let sigma = 1.0 / (1.0 + exp(-z));
  da[i] = g * b[i] * sigma * (1.0 + z * (1.0 - sigma));
  db[i] = g * z * sigma;
}`;

export function swigluBackward(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  { size }: OpParams['swigluBackward'],
  context: KernelContext,
): GpuDispatch[] {
  return [
    {
      shader: SWIGLU_BACKWARD,
      bindings: [...inputs, ...outputs].map((t) => binding(t, 'swigluBackward')),
      uniforms: [['u32', size]],
      workgroups: grid(Math.ceil(size / WORKGROUP), context),
    },
  ];
}

/**
 * embedding's backward without float atomics: a thread per (v, d) scans all T ids and sums the
 * matching rows of dY. O(V·D·T) work (every thread reads every id, a broadcast within a workgroup):
 * fine for the small vocabularies of character models, not for a 128k vocabulary.
 */
const EMBEDDING_BACKWARD = /* wgsl */ `
struct Params { tokens: u32, dim: u32, size: u32, accumulate: u32 }
@group(0) @binding(0) var<storage, read> ids: array<i32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dtable: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (i >= params.size) { return; }
  let v = i32(i / params.dim);
  let d = i % params.dim;
  var sum = 0.0;
  for (var t = 0u; t < params.tokens; t++) {
    if (ids[t] == v) { sum += dy[t * params.dim + d]; }
  }
  if (params.accumulate == 1u) { dtable[i] += sum; } else { dtable[i] = sum; }
}`;

export function embeddingBackward(
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  { tokens, vocab, dim, accumulate }: OpParams['embeddingBackward'],
  context: KernelContext,
): GpuDispatch[] {
  const size = vocab * dim;
  return [
    {
      shader: EMBEDDING_BACKWARD,
      bindings: [...inputs, ...outputs].map((t) => binding(t, 'embeddingBackward')),
      uniforms: [
        ['u32', tokens],
        ['u32', dim],
        ['u32', size],
        ['u32', accumulate ? 1 : 0],
      ],
      workgroups: grid(Math.ceil(size / WORKGROUP), context),
    },
  ];
}

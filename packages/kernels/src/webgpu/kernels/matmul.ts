import type { WeightDType } from '../../dtype.js';
import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { binding, chunksOf, type GpuDispatch, grid, type KernelContext } from '../kernel.js';
import type { GpuChunk } from '../storage.js';
import { quadWeightLoader, scalesWord, weightLoader } from './weights.js';

/**
 * The matmul family: y = x · wᵀ, and its gated form y = silu(x · w1ᵀ) ⊙ (x · w3ᵀ), which
 * computes Llama's feed-forward gate and up projections in one pass over x with the SiLU-multiply
 * in the epilogue (the two [M, hidden] intermediates are never written). One dispatch per weight
 * chunk; a chunk holds weight rows n_offset..n_offset+n_count.
 *
 * Decode (M = 1) is bound by reading the weights once: 8 lanes share a row, each reading a quad of
 * 4 weights (16 bytes of f32) at a time so a row streams in contiguous 128-byte runs, then the
 * lanes sum with subgroup shuffles (or through workgroup memory without the subgroups feature).
 *
 * Prefill (M > 1) is bound by arithmetic: 64 x 64 output tiles, K in steps of 16 through
 * workgroup memory, each of 16 x 16 threads holding a 4 x 4 block of sums in registers.
 */
const PARAMS = 'struct Params { M: u32, N: u32, K: u32, n_offset: u32, n_count: u32, scales_word: u32 }';

const LANES = 8;
const ROWS_PER_GROUP = 8;
const TILE = 64;
const TILE_K = 16;
const THREAD_TILE = 4;

interface Variant {
  dtype: WeightDType;
  gated: boolean;
}

/** Bindings: x, w (or w1 and w3 when gated), y, params. */
function bindings(v: Variant, xType: string, wType: string): string {
  const weights = v.gated
    ? `@group(0) @binding(1) var<storage, read> w: ${wType};
@group(0) @binding(2) var<storage, read> w3: ${wType};`
    : `@group(0) @binding(1) var<storage, read> w: ${wType};`;
  const next = v.gated ? 3 : 2;
  return `${PARAMS}
@group(0) @binding(0) var<storage, read> x: ${xType};
${weights}
@group(0) @binding(${next}) var<storage, read_write> y: array<f32>;
@group(0) @binding(${next + 1}) var<uniform> params: Params;`;
}

const SILU = 'fn silu(z: f32) -> f32 { return z / (1.0 + exp(-z)); }';

function matvecShader(v: Variant, quads: boolean, subgroups: boolean): string {
  const loader = quads ? quadWeightLoader(v.dtype) : weightLoader(v.dtype);
  const loader3 = quads ? quadWeightLoader(v.dtype, 'w3') : weightLoader(v.dtype, 'w3');
  const loadFn = quads ? 'load_w4' : 'load_w';
  const step = (sum: string, load: string) =>
    quads
      ? `${sum} += dot(x[q], ${load}(row * (params.K / 4u) + q));`
      : `${sum} += x[k] * ${load}(row * params.K + k);`;
  const loop = quads
    ? `for (var q = lane; q < params.K / 4u; q += ${LANES}u)`
    : `for (var k = lane; k < params.K; k += ${LANES}u)`;
  const reduce = (sum: string, scratch: string) =>
    subgroups
      ? `${sum} += subgroupShuffleXor(${sum}, 1u);
  ${sum} += subgroupShuffleXor(${sum}, 2u);
  ${sum} += subgroupShuffleXor(${sum}, 4u);`
      : `${scratch}[lid] = ${sum};
  workgroupBarrier();
  if (lane == 0u) { for (var i = 1u; i < ${LANES}u; i++) { ${sum} += ${scratch}[lid + i]; } }`;
  return /* wgsl */ `${subgroups ? 'enable subgroups;' : ''}
${bindings(v, quads ? 'array<vec4f>' : 'array<f32>', loader.declaration)}
${subgroups ? '' : `var<workgroup> partial: array<f32, ${LANES * ROWS_PER_GROUP}>;`}
${subgroups || !v.gated ? '' : `var<workgroup> partial3: array<f32, ${LANES * ROWS_PER_GROUP}>;`}

${loader.load}
${v.gated ? loader3.load.replace(`fn ${loadFn}(`, `fn ${loadFn}_3(`) : ''}
${SILU}

@compute @workgroup_size(${LANES * ROWS_PER_GROUP})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let n = (wid.x + wid.y * nwg.x) * ${ROWS_PER_GROUP}u + lid / ${LANES}u;
  let lane = lid % ${LANES}u;
  // Rows past the end compute a copy of the last row and do not store it: every lane must reach
  // the reduction (barriers and shuffles need uniform control flow).
  let row = min(n, params.n_count - 1u);
  var sum = 0.0;
  var sum3 = 0.0;
  ${loop} {
    ${step('sum', loadFn)}
    ${v.gated ? step('sum3', `${loadFn}_3`) : ''}
  }
  ${reduce('sum', 'partial')}
  ${v.gated ? reduce('sum3', 'partial3') : ''}
  if (lane == 0u && n < params.n_count) { y[params.n_offset + n] = ${v.gated ? 'silu(sum) * sum3' : 'sum'}; }
}`;
}

function tiledShader(v: Variant): string {
  const loader = weightLoader(v.dtype);
  const loader3 = weightLoader(v.dtype, 'w3');
  const tile = (name: string) => `var<workgroup> ${name}: array<array<f32, ${TILE_K}>, ${TILE}>;`;
  const accumulate = (acc: string, tileName: string) => `
      for (var i = 0u; i < ${THREAD_TILE}u; i++) { b[i] = ${tileName}[lid.x * ${THREAD_TILE}u + i][c]; }
      for (var i = 0u; i < ${THREAD_TILE}u; i++) {
        for (var j = 0u; j < ${THREAD_TILE}u; j++) { ${acc}[i][j] += a[i] * b[j]; }
      }`;
  return /* wgsl */ `
${bindings(v, 'array<f32>', loader.declaration)}
${tile('x_tile')}
${tile('w_tile')}
${v.gated ? tile('w3_tile') : ''}

${loader.load}
${v.gated ? loader3.load.replace('fn load_w(', 'fn load_w_3(') : ''}
${SILU}

@compute @workgroup_size(${TILE / THREAD_TILE}, ${TILE / THREAD_TILE})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * ${TILE}u;
  let n0 = wid.x * ${TILE}u;
  var acc: array<array<f32, ${THREAD_TILE}>, ${THREAD_TILE}>;
  var acc3: array<array<f32, ${THREAD_TILE}>, ${THREAD_TILE}>;
  for (var k0 = 0u; k0 < params.K; k0 += ${TILE_K}u) {
    for (var e = li; e < ${TILE * TILE_K}u; e += ${(TILE / THREAD_TILE) ** 2}u) {
      let r = e / ${TILE_K}u;
      let c = e % ${TILE_K}u;
      let k = k0 + c;
      let m = m0 + r;
      let n = n0 + r;
      x_tile[r][c] = select(0.0, x[m * params.K + k], m < params.M && k < params.K);
      w_tile[r][c] = select(0.0, load_w(n * params.K + k), n < params.n_count && k < params.K);
      ${v.gated ? 'w3_tile[r][c] = select(0.0, load_w_3(n * params.K + k), n < params.n_count && k < params.K);' : ''}
    }
    workgroupBarrier();
    for (var c = 0u; c < ${TILE_K}u; c++) {
      var a: array<f32, ${THREAD_TILE}>;
      var b: array<f32, ${THREAD_TILE}>;
      for (var i = 0u; i < ${THREAD_TILE}u; i++) { a[i] = x_tile[lid.y * ${THREAD_TILE}u + i][c]; }
      ${accumulate('acc', 'w_tile')}
      ${v.gated ? accumulate('acc3', 'w3_tile') : ''}
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${THREAD_TILE}u; i++) {
    for (var j = 0u; j < ${THREAD_TILE}u; j++) {
      let m = m0 + lid.y * ${THREAD_TILE}u + i;
      let n = n0 + lid.x * ${THREAD_TILE}u + j;
      if (m < params.M && n < params.n_count) {
        y[m * params.N + params.n_offset + n] = ${v.gated ? 'silu(acc[i][j]) * acc3[i][j]' : 'acc[i][j]'};
      }
    }
  }
}`;
}

const shaders = new Map<string, string>();

function shaderFor(v: Variant, M: number, K: number, context: KernelContext): string {
  const vector = M === 1;
  const quads = K % 4 === 0;
  const key = `${v.dtype}-${v.gated}-${vector ? `vec-${quads}-${context.subgroups}` : 'tiled'}`;
  let shader = shaders.get(key);
  if (!shader) {
    shader = vector ? matvecShader(v, quads, context.subgroups) : tiledShader(v);
    shaders.set(key, shader);
  }
  return shader;
}

function plan(
  op: string,
  v: Variant,
  x: Tensor,
  weights: readonly Tensor[],
  y: Tensor,
  { M, N, K }: { M: number; N: number; K: number },
  context: KernelContext,
): GpuDispatch[] {
  const shader = shaderFor(v, M, K, context);
  const xBinding = binding(x, op);
  const yBinding = binding(y, op);
  const chunkLists = weights.map(chunksOf);
  return (chunkLists[0] as GpuChunk[]).map((chunk, c) => ({
    shader,
    bindings: [
      xBinding,
      ...chunkLists.map((chunks) => {
        const part = chunks[c] as GpuChunk;
        return { buffer: part.buffer, offset: 0, size: part.byteLength };
      }),
      yBinding,
    ],
    uniforms: [
      ['u32', M],
      ['u32', N],
      ['u32', K],
      ['u32', chunk.rowStart],
      ['u32', chunk.rowCount],
      ['u32', scalesWord(v.dtype, chunk.rowCount * K)],
    ],
    workgroups:
      M === 1
        ? grid(Math.ceil(chunk.rowCount / ROWS_PER_GROUP), context)
        : [Math.ceil(chunk.rowCount / TILE), Math.ceil(M / TILE)],
  }));
}

export function matmul(
  [x, w]: readonly Tensor[],
  [y]: readonly Tensor[],
  p: OpParams['matmul'],
  context: KernelContext,
): GpuDispatch[] {
  return plan('matmul', { dtype: p.weightDType, gated: false }, x as Tensor, [w as Tensor], y as Tensor, p, context);
}

export function matmulSwiglu(
  [x, w1, w3]: readonly Tensor[],
  [y]: readonly Tensor[],
  p: OpParams['matmulSwiglu'],
  context: KernelContext,
): GpuDispatch[] {
  return plan(
    'matmulSwiglu',
    { dtype: p.weightDType, gated: true },
    x as Tensor,
    [w1 as Tensor, w3 as Tensor],
    y as Tensor,
    p,
    context,
  );
}

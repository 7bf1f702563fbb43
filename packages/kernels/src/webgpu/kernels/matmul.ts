import type { WeightDType } from '../../dtype.js';
import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { binding, chunksOf, type GpuDispatch, grid, type KernelContext } from '../kernel.js';
import type { GpuChunk } from '../storage.js';
import { GROUP_ELEMENTS, groupDotLoader, quadWeightLoader, scalesWord, weightLoader } from './weights.js';

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

/**
 * Matrix-vector geometry: threads per workgroup, split into row sets of 8 to 32 lanes (see
 * matvecLanes); each set computes ROWS_PER_LANE rows, UNROLL loads per lane in flight.
 */
const MATVEC_THREADS = 256;
const ROWS_PER_LANE = 1;
const UNROLL = 4;
/** Weight loads a lane should stream per row, so the fixed cost of a row (its reduction) stays small. */
const LOADS_PER_LANE = 16;

/**
 * 0 .. ROWS_PER_LANE - 1, for writing per-row statements out one by one: private arrays indexed
 * by constants stay in registers, where a loop over them may not be unrolled by the compiler.
 */
const rowIndices = () => Array.from({ length: ROWS_PER_LANE }, (_, r) => r);

/** Lanes per row set: 32, or fewer (down to 8) when rows are short, so each lane still streams LOADS_PER_LANE loads. */
function matvecLanes(loadsPerRow: number): number {
  let lanes = 32;
  while (lanes > 8 && loadsPerRow / lanes < LOADS_PER_LANE) lanes /= 2;
  return lanes;
}
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

/**
 * Sums each of the ROWS_PER_LANE per-lane sums `sums[r]` over the `lanes` lanes of a row set;
 * lane r of the set ends up with row r's total in `total`. With subgroups, shuffles add within
 * each run of 8 lanes (subgroups have at least 8) and workgroup memory adds the lanes / 8 runs;
 * without them, a tree in workgroup memory.
 */
function laneReduce(sums: string, total: string, subgroups: boolean, lanes: number): string {
  const R = ROWS_PER_LANE;
  if (subgroups) {
    const runs = lanes / 8;
    const perRow = rowIndices().map(
      (r) => `{
    var s = ${sums}[${r}];
    s += subgroupShuffleXor(s, 1u);
    s += subgroupShuffleXor(s, 2u);
    s += subgroupShuffleXor(s, 4u);
    if (lane % 8u == 0u) { partial[(row_set * ${R}u + ${r}u) * ${runs}u + lane / 8u] = s; }
  }`,
    );
    return `${perRow.join('\n  ')}
  workgroupBarrier();
  var ${total} = 0.0;
  if (lane < ${R}u) {
    for (var i = 0u; i < ${runs}u; i++) { ${total} += partial[(row_set * ${R}u + lane) * ${runs}u + i]; }
  }
  workgroupBarrier();`;
  }
  const stores = rowIndices().map((r) => `partial[(row_set * ${R}u + ${r}u) * ${lanes}u + lane] = ${sums}[${r}];`);
  return `${stores.join('\n  ')}
  workgroupBarrier();
  for (var stride = ${lanes / 2}u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      for (var r = 0u; r < ${R}u; r++) {
        let at = (row_set * ${R}u + r) * ${lanes}u + lane;
        partial[at] += partial[at + stride];
      }
    }
    workgroupBarrier();
  }
  var ${total} = 0.0;
  if (lane < ${R}u) { ${total} = partial[(row_set * ${R}u + lane) * ${lanes}u]; }
  workgroupBarrier();`;
}

/**
 * Decode: a set of 8-32 lanes computes ROWS_PER_LANE rows. Consecutive lanes read consecutive
 * 16-byte weight groups (or single weights when a row holds no whole groups), so each load
 * instruction covers a contiguous run of a row, and each lane loads its slice of x once for all
 * its rows. Measured on an H100 (kernels README): 1 row per set with 4 loads in flight and at
 * least 16 loads per lane was the best; sharing x over 2 or 4 rows per set did not pay, so
 * ROWS_PER_LANE stays a tuning knob at 1.
 */
function matvecShader(v: Variant, grouped: boolean, subgroups: boolean, lanes: number): string {
  const R = ROWS_PER_LANE;
  const sets = MATVEC_THREADS / lanes;
  let declaration: string;
  let functions: string;
  let loadX: (index: string) => string;
  let term: (w: 'w' | 'w3', row: string, index: string) => string;
  let count: string;
  if (grouped) {
    const loader = groupDotLoader(v.dtype);
    declaration = loader.declaration;
    functions = v.gated ? `${loader.fn}\n${groupDotLoader(v.dtype, 'w3', 'dot_w3').fn}` : loader.fn;
    const vec4s = GROUP_ELEMENTS[v.dtype] / 4;
    const names = Array.from({ length: vec4s }, (_, j) => `x${j}`);
    loadX = (index) => names.map((name, j) => `let ${name} = x[(${index}) * ${vec4s}u + ${j}u];`).join(' ');
    term = (w, row, index) => `dot_${w}(${row} + ${index}, ${names.join(', ')})`;
    count = `params.K / ${GROUP_ELEMENTS[v.dtype]}u`;
  } else {
    const loader = weightLoader(v.dtype);
    declaration = loader.declaration;
    functions = v.gated
      ? `${loader.load}\n${weightLoader(v.dtype, 'w3').load.replace('fn load_w(', 'fn load_w3(')}`
      : loader.load;
    loadX = (index) => `let x0 = x[${index}];`;
    term = (w, row, index) => `x0 * load_${w}(${row} + ${index})`;
    count = 'params.K';
  }
  const step = (index: string) => `{
      ${loadX(index)}
      ${rowIndices()
        .map((r) =>
          v.gated
            ? `sums[${r}] += ${term('w', `starts[${r}]`, index)}; sums3[${r}] += ${term('w3', `starts[${r}]`, index)};`
            : `sums[${r}] += ${term('w', `starts[${r}]`, index)};`,
        )
        .join('\n      ')}
    }`;
  const unrolled = Array.from({ length: UNROLL }, (_, u) => step(`i + ${u * lanes}u`)).join('\n    ');
  const scratchSize = (subgroups ? lanes / 8 : lanes) * sets * R;
  return /* wgsl */ `${subgroups ? 'enable subgroups;' : ''}
${bindings(v, grouped ? 'array<vec4f>' : 'array<f32>', declaration)}
var<workgroup> partial: array<f32, ${scratchSize}>;

${functions}
${SILU}

@compute @workgroup_size(${MATVEC_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row_set = lid / ${lanes}u;
  let lane = lid % ${lanes}u;
  let first_row = ((wid.x + wid.y * nwg.x) * ${sets}u + row_set) * ${R}u;
  let count = ${count};
  // Rows past the end compute a copy of the last row and do not store it: every lane must reach
  // the reduction (barriers and shuffles need uniform control flow).
  var starts: array<u32, ${R}>;
  ${rowIndices()
    .map((r) => `starts[${r}] = min(first_row + ${r}u, params.n_count - 1u) * count;`)
    .join('\n  ')}
  var sums: array<f32, ${R}>;
  var sums3: array<f32, ${R}>;
  var i = lane;
  for (; i + ${(UNROLL - 1) * lanes}u < count; i += ${UNROLL * lanes}u) {
    ${unrolled}
  }
  for (; i < count; i += ${lanes}u) ${step('i')}
  ${laneReduce('sums', 'total', subgroups, lanes)}
  ${v.gated ? laneReduce('sums3', 'total3', subgroups, lanes) : ''}
  let n = first_row + lane;
  if (lane < ${R}u && n < params.n_count) { y[params.n_offset + n] = ${v.gated ? 'silu(total) * total3' : 'total'}; }
}`;
}

/**
 * Tiles live in workgroup memory k-major ([TILE_K][TILE + 4]) so a thread reads its 4 rows of x
 * and 4 columns of w as two vec4 loads per k (the 4-float pad spreads the transposing stores over
 * banks). Each thread loads one quad of x and one of w per K step and fetches the next step's
 * quads into registers before computing on the current tiles, so global latency overlaps the math.
 */
function tiledShader(v: Variant, quads: boolean): string {
  const loader = quads ? quadWeightLoader(v.dtype) : weightLoader(v.dtype);
  const loader3 = quads ? quadWeightLoader(v.dtype, 'w3') : weightLoader(v.dtype, 'w3');
  const loadFn = quads ? 'load_w4' : 'load_w';
  const STRIDE = TILE + 4;
  const tile = (name: string) => `var<workgroup> ${name}: array<vec4f, ${(TILE_K * STRIDE) / 4}>;`;
  // Thread li fetches row li / 4 of the tile, k quad li % 4: K is read in 64-byte runs per row.
  const fetchX = (k0: string) =>
    quads
      ? `select(vec4f(0.0), x[(m0 + r) * (params.K / 4u) + (${k0}) / 4u + cq], m0 + r < params.M && (${k0}) + 4u * cq < params.K)`
      : `fetch_x(m0 + r, (${k0}) + 4u * cq)`;
  const fetchW = (fn: string, k0: string) =>
    quads
      ? `select(vec4f(0.0), ${fn}((n0 + r) * (params.K / 4u) + (${k0}) / 4u + cq), n0 + r < params.n_count && (${k0}) + 4u * cq < params.K)`
      : `fetch_${fn}(n0 + r, (${k0}) + 4u * cq)`;
  const scalarFetch = (fn: string) => `fn fetch_${fn}(n: u32, k: u32) -> vec4f {
  var out = vec4f(0.0);
  for (var t = 0u; t < 4u; t++) {
    if (n < params.n_count && k + t < params.K) { out[t] = ${fn}(n * params.K + k + t); }
  }
  return out;
}`;
  const store = (tileName: string, reg: string) =>
    `for (var t = 0u; t < 4u; t++) { ${tileName}_f(4u * cq + t, r, ${reg}[t]); }`;
  const tileSetter = (name: string) =>
    `fn ${name}_f(k: u32, i: u32, value: f32) { ${name}[(k * ${STRIDE}u + i) / 4u][i % 4u] = value; }`;
  const accumulate = (acc: string, tileName: string) => `
      let b${acc} = ${tileName}[(c * ${STRIDE}u) / 4u + lid.x];
      for (var i = 0u; i < 4u; i++) { ${acc}[i] += a[i] * b${acc}; }`;
  return /* wgsl */ `
${bindings(v, quads ? 'array<vec4f>' : 'array<f32>', loader.declaration)}
${tile('x_tile')}
${tile('w_tile')}
${v.gated ? tile('w3_tile') : ''}

${loader.load}
${v.gated ? loader3.load.replace(`fn ${loadFn}(`, `fn ${loadFn}_3(`) : ''}
${SILU}
${
  quads
    ? ''
    : `fn fetch_x(m: u32, k: u32) -> vec4f {
  var out = vec4f(0.0);
  for (var t = 0u; t < 4u; t++) { if (m < params.M && k + t < params.K) { out[t] = x[m * params.K + k + t]; } }
  return out;
}
${scalarFetch('load_w')}
${v.gated ? scalarFetch('load_w_3') : ''}`
}
${tileSetter('x_tile')}
${tileSetter('w_tile')}
${v.gated ? tileSetter('w3_tile') : ''}

@compute @workgroup_size(${TILE / THREAD_TILE}, ${TILE / THREAD_TILE})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * ${TILE}u;
  let n0 = wid.x * ${TILE}u;
  let r = li / 4u;
  let cq = li % 4u;
  // acc[i] holds output row lid.y * 4 + i, columns lid.x * 4 .. + 3.
  var acc: array<vec4f, ${THREAD_TILE}>;
  var acc3: array<vec4f, ${THREAD_TILE}>;
  var xr = ${fetchX('0u')};
  var wr = ${fetchW(loadFn, '0u')};
  ${v.gated ? `var w3r = ${fetchW(`${loadFn}_3`, '0u')};` : ''}
  for (var k0 = 0u; k0 < params.K; k0 += ${TILE_K}u) {
    ${store('x_tile', 'xr')}
    ${store('w_tile', 'wr')}
    ${v.gated ? store('w3_tile', 'w3r') : ''}
    workgroupBarrier();
    let k_next = k0 + ${TILE_K}u;
    if (k_next < params.K) {
      xr = ${fetchX('k_next')};
      wr = ${fetchW(loadFn, 'k_next')};
      ${v.gated ? `w3r = ${fetchW(`${loadFn}_3`, 'k_next')};` : ''}
    }
    for (var c = 0u; c < ${TILE_K}u; c++) {
      let a = x_tile[(c * ${STRIDE}u) / 4u + lid.y];
      ${accumulate('acc', 'w_tile')}
      ${v.gated ? accumulate('acc3', 'w3_tile') : ''}
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${THREAD_TILE}u; i++) {
    let m = m0 + lid.y * ${THREAD_TILE}u + i;
    for (var j = 0u; j < ${THREAD_TILE}u; j++) {
      let n = n0 + lid.x * ${THREAD_TILE}u + j;
      if (m < params.M && n < params.n_count) {
        y[m * params.N + params.n_offset + n] = ${v.gated ? 'silu(acc[i][j]) * acc3[i][j]' : 'acc[i][j]'};
      }
    }
  }
}`;
}

const shaders = new Map<string, string>();

interface Geometry {
  shader: string;
  /** Output rows per workgroup. */
  rowsPerGroup: number;
}

function geometryFor(v: Variant, M: number, K: number, context: KernelContext): Geometry {
  if (M > 1) {
    const aligned = K % 4 === 0;
    const key = `${v.dtype}-${v.gated}-${aligned}-tiled`;
    return { shader: cachedShader(key, () => tiledShader(v, aligned)), rowsPerGroup: TILE };
  }
  const grouped = K % GROUP_ELEMENTS[v.dtype] === 0;
  const lanes = matvecLanes(grouped ? K / GROUP_ELEMENTS[v.dtype] : K);
  const key = `${v.dtype}-${v.gated}-${grouped}-vec-${context.subgroups}-${lanes}`;
  return {
    shader: cachedShader(key, () => matvecShader(v, grouped, context.subgroups, lanes)),
    rowsPerGroup: (MATVEC_THREADS / lanes) * ROWS_PER_LANE,
  };
}

function cachedShader(key: string, build: () => string): string {
  let shader = shaders.get(key);
  if (!shader) {
    shader = build();
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
  const { shader, rowsPerGroup } = geometryFor(v, M, K, context);
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
        ? grid(Math.ceil(chunk.rowCount / rowsPerGroup), context)
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

import { GROUP_ELEMENTS, groupDotLoader, weightLoader } from '../../webgpu/weights.js';
import { bindings, SILU, type Variant } from './common.wgsl.js';

/**
 * Matrix-vector geometry: threads per workgroup, split into row sets of 8 to 32 lanes (see
 * matvecLanes); each set computes ROWS_PER_LANE rows, UNROLL loads per lane in flight.
 */
export const MATVEC_THREADS = 256;
export const ROWS_PER_LANE = 1;
const UNROLL = 4;
/** Weight loads a lane should stream per row, so the fixed cost of a row (its reduction) stays small. */
const LOADS_PER_LANE = 16;

/**
 * 0 .. ROWS_PER_LANE - 1, for writing per-row statements out one by one: private arrays indexed
 * by constants stay in registers, where a loop over them may not be unrolled by the compiler.
 */
const rowIndices = () => Array.from({ length: ROWS_PER_LANE }, (_, r) => r);

/** Lanes per row set: 32, or fewer (down to 8) when rows are short, so each lane still streams LOADS_PER_LANE loads. */
export function matvecLanes(loadsPerRow: number): number {
  let lanes = 32;
  while (lanes > 8 && loadsPerRow / lanes < LOADS_PER_LANE) lanes /= 2;
  return lanes;
}
/**
 * Sums each of the ROWS_PER_LANE per-lane sums `sums[r]` over the `lanes` lanes of a row set;
 * lane r of the set ends up with row r's total in `total`. With subgroups, shuffles add within
 * each run of 8 lanes (subgroups have at least 8) and workgroup memory adds the lanes / 8 runs;
 * without them, a tree in workgroup memory.
 */
export function laneReduce(sums: string, total: string, subgroups: boolean, lanes: number): string {
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
export function matvecShader(v: Variant, grouped: boolean, subgroups: boolean, lanes: number): string {
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

import { blockHelpers, type FourToSixBit, UNIT_ELEMENTS, unitDotFn } from '../../webgpu/block-weights.js';
import { bindings, SILU, type Variant } from './common.wgsl.js';
import { laneReduce, MATVEC_THREADS } from './matvec.wgsl.js';

/**
 * Decode (M = 1) for the 4-6-bit block formats: as matvecShader, a set of 8-32 lanes per row, but
 * each lane takes whole units of the row (UNIT_ELEMENTS: a q4_0/q4_1 block, a quarter of a k-quant
 * block), reading their quants with 16-byte loads and their scales once per unit, and x itself
 * (x is small and cached; the units' elements are not always one contiguous run).
 */
export function matvecBlocksShader(v: Variant & { dtype: FourToSixBit }, subgroups: boolean, lanes: number): string {
  const sets = MATVEC_THREADS / lanes;
  const scratchSize = (subgroups ? lanes / 8 : lanes) * sets;
  const helpers = [blockHelpers(v.dtype, 'w'), unitDotFn(v.dtype, 'w')];
  if (v.gated) helpers.push(blockHelpers(v.dtype, 'w3'), unitDotFn(v.dtype, 'w3'));
  return /* wgsl */ `${subgroups ? 'enable subgroups;' : ''}
${bindings(v, 'array<vec4f>', 'array<vec4u>')}
var<workgroup> partial: array<f32, ${scratchSize}>;

${helpers.join('\n')}
${SILU}

@compute @workgroup_size(${MATVEC_THREADS})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row_set = lid / ${lanes}u;
  let lane = lid % ${lanes}u;
  let first_row = (wid.x + wid.y * nwg.x) * ${sets}u + row_set;
  // Rows past the end compute a copy of the last row and do not store it (uniform control flow).
  let row = min(first_row, params.n_count - 1u);
  let units = params.K / ${UNIT_ELEMENTS[v.dtype]}u;
  var sums: array<f32, 1>;
  var sums3: array<f32, 1>;
  for (var u = lane; u < units; u += ${lanes}u) {
    sums[0] += w_unit_dot(row, u);
    ${v.gated ? 'sums3[0] += w3_unit_dot(row, u);' : ''}
  }
  ${laneReduce('sums', 'total', subgroups, lanes)}
  ${v.gated ? laneReduce('sums3', 'total3', subgroups, lanes) : ''}
  let n = first_row + lane;
  if (lane < 1u && n < params.n_count) { y[params.n_offset + n] = ${v.gated ? 'silu(total) * total3' : 'total'}; }
}`;
}

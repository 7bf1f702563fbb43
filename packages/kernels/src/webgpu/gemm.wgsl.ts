/**
 * The one tiled matrix-product shader of the WebGPU backend: C[m, n] = Σ_k A[m, k] · B[n, k], used
 * by the forward matmul (and its gated form) and by both matmul gradients, which differ only in how
 * their operands are stored and how the result is written.
 *
 * Geometry (tuned on the forward matmul, then adopted by the gradients): 64 x 64 output tiles, K in
 * steps of 16 through workgroup memory, each of 16 x 16 threads holding a 4 x 4 block of sums in
 * registers. Tiles live in workgroup memory k-major ([16][64 + 4]) so a thread reads its 4 rows of A
 * and 4 columns of B as two vec4 loads per k (the 4-float pad spreads the transposing stores over
 * banks). Each thread loads one quad of each tile per K step, along whichever axis is contiguous
 * in memory; with `prefetch`, it fetches the next step's quads into registers before computing on
 * the current tiles, so global latency overlaps the math.
 */

export const GEMM_TILE = 64;
const TILE_K = 16;
const THREAD_TILE = 4;
/** Row stride of the k-major workgroup tiles, in floats. */
const STRIDE = GEMM_TILE + 4;

export interface GemmOperand {
  /** Name of its workgroup tile, e.g. 'x_tile'. */
  tile: string;
  /**
   * 'rows': stored as [rows, K], contiguous along k (thread li loads row li / 4, the quad of k at
   * (li % 4) * 4, and scatters it k-major). 'kMajor': stored as [K, rows], contiguous along the
   * rows (thread li loads k row li / 16, quad li % 16, and stores it as is).
   */
  layout: 'rows' | 'kMajor';
  /**
   * WGSL vec4f of 4 consecutive elements along the contiguous axis, zeros outside the matrix:
   * elements (row, k .. k + 3) for 'rows', (k, row .. row + 3) for 'kMajor'.
   */
  fetch(row: string, k: string): string;
}

export interface GemmShader {
  /** What precedes the tiles: enable lines, `struct Params`, bindings, helper functions. */
  prelude: string;
  /** WGSL expression of K, the summed length. */
  depth: string;
  /** The operand whose rows are the output's rows (m). */
  a: GemmOperand;
  /** One operand per accumulator, whose rows are the output's columns (n): two for the gated matmul. */
  b: readonly GemmOperand[];
  prefetch: boolean;
  /**
   * WGSL statements writing output (m, n) from the sums, one per b operand (`sums[q]` is an f32
   * expression); they must check m and n against the output's size.
   */
  store(sums: readonly string[]): string;
}

/** Row (or k row) and quad a thread loads in its operand's tile, and where that quad goes in the tile. */
function tileLoad(operand: GemmOperand, origin: string, k0: string): { value: string; store: (v: string) => string } {
  if (operand.layout === 'rows') {
    return {
      value: operand.fetch(`${origin} + li / 4u`, `${k0} + (li % 4u) * 4u`),
      store: (v) => `for (var t = 0u; t < 4u; t++) {
      let at = ((li % 4u) * 4u + t) * ${STRIDE}u + li / 4u;
      ${operand.tile}[at / 4u][at % 4u] = ${v}[t];
    }`,
    };
  }
  return {
    value: operand.fetch(`${origin} + (li % 16u) * 4u`, `${k0} + li / 16u`),
    store: (v) => `${operand.tile}[(li / 16u) * ${STRIDE / 4}u + li % 16u] = ${v};`,
  };
}

export function tiledGemmShader(g: GemmShader): string {
  const operands = [{ operand: g.a, origin: 'm0' }, ...g.b.map((operand) => ({ operand, origin: 'n0' }))];
  const accumulators = g.b.map((_, q) => `acc${q}`);
  const register = (operand: GemmOperand) => `${operand.tile}_next`;
  const loads = (k0: string) => operands.map(({ operand, origin }) => ({ operand, ...tileLoad(operand, origin, k0) }));
  const fill = g.prefetch
    ? `${loads('k0')
        .map((load) => load.store(register(load.operand)))
        .join('\n    ')}
    workgroupBarrier();
    let k_next = k0 + ${TILE_K}u;
    if (k_next < ${g.depth}) {
      ${loads('k_next')
        .map((load) => `${register(load.operand)} = ${load.value};`)
        .join('\n      ')}
    }`
    : `${loads('k0')
        .map((load) => `{\n    let quad = ${load.value};\n    ${load.store('quad')}\n    }`)
        .join('\n    ')}
    workgroupBarrier();`;
  const prefetchFirst = g.prefetch
    ? loads('0u')
        .map((load) => `var ${register(load.operand)} = ${load.value};`)
        .join('\n  ')
    : '';
  return /* wgsl */ `${g.prelude}
${operands.map(({ operand }) => `var<workgroup> ${operand.tile}: array<vec4f, ${(TILE_K * STRIDE) / 4}>;`).join('\n')}

@compute @workgroup_size(${GEMM_TILE / THREAD_TILE}, ${GEMM_TILE / THREAD_TILE})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let m0 = wid.y * ${GEMM_TILE}u;
  let n0 = wid.x * ${GEMM_TILE}u;
  // acc[i] holds output row lid.y * 4 + i, columns lid.x * 4 .. + 3.
  ${accumulators.map((acc) => `var ${acc}: array<vec4f, ${THREAD_TILE}>;`).join('\n  ')}
  ${prefetchFirst}
  for (var k0 = 0u; k0 < ${g.depth}; k0 += ${TILE_K}u) {
    ${fill}
    for (var c = 0u; c < ${TILE_K}u; c++) {
      let a = ${g.a.tile}[c * ${STRIDE / 4}u + lid.y];
      ${g.b
        .map(
          (operand, q) => `let b${q} = ${operand.tile}[c * ${STRIDE / 4}u + lid.x];
      for (var i = 0u; i < ${THREAD_TILE}u; i++) { ${accumulators[q]}[i] += a[i] * b${q}; }`,
        )
        .join('\n      ')}
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < ${THREAD_TILE}u; i++) {
    let m = m0 + lid.y * ${THREAD_TILE}u + i;
    for (var j = 0u; j < ${THREAD_TILE}u; j++) {
      let n = n0 + lid.x * ${THREAD_TILE}u + j;
      ${g.store(accumulators.map((acc) => `${acc}[i][j]`))}
    }
  }
}`;
}

/**
 * WGSL of 4 consecutive f32 elements `index .. index + 3` of `buffer` as a vec4f, zeros where
 * `valid` is false or where `position + t` reaches `end`: rows need not be multiples of 4. (The
 * discarded reads may fall past the buffer; WebGPU's robust buffer access keeps them defined.)
 */
export function load4(buffer: string, index: string, valid: string, position: string, end: string): string {
  return `vec4f(${[0, 1, 2, 3]
    .map((t) => `select(0.0, ${buffer}[${index} + ${t}u], ${valid} && ${position} + ${t}u < ${end})`)
    .join(', ')})`;
}

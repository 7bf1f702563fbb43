import { type GemmOperand, tiledGemmShader } from '../../webgpu/gemm.wgsl.js';
import { quadWeightLoader, weightLoader } from '../../webgpu/weights.js';
import { bindings, SILU, type Variant } from './common.wgsl.js';

/**
 * Prefill (M > 1): the tiled GEMM (webgpu/gemm.wgsl.ts) with x and the weights both stored
 * [rows, K], prefetching. With K a multiple of 4 (`quads`), x is read as vec4s and each weight quad
 * with one load (load_w4); otherwise element by element, zeros past the edges.
 */
export function tiledShader(v: Variant, quads: boolean): string {
  const weights = [weightOperand(v, 'w', 'w_tile', quads)];
  if (v.gated) weights.push(weightOperand(v, 'w3', 'w3_tile', quads));
  const x: GemmOperand = {
    tile: 'x_tile',
    layout: 'rows',
    fetch: (row, k) =>
      quads
        ? `select(vec4f(0.0), x[(${row}) * (params.K / 4u) + (${k}) / 4u], ${row} < params.M && ${k} < params.K)`
        : `fetch_x(${row}, ${k})`,
  };
  const prelude = `
${bindings(v, quads ? 'array<vec4f>' : 'array<f32>', (quads ? quadWeightLoader : weightLoader)(v.dtype).declaration)}
${weights.map((w) => w.functions).join('\n')}
${SILU}
${
  quads
    ? ''
    : `fn fetch_x(m: u32, k: u32) -> vec4f {
  var out = vec4f(0.0);
  for (var t = 0u; t < 4u; t++) { if (m < params.M && k + t < params.K) { out[t] = x[m * params.K + k + t]; } }
  return out;
}`
}`;
  return tiledGemmShader({
    prelude,
    depth: 'params.K',
    a: x,
    b: weights.map((w) => w.operand),
    prefetch: true,
    store: ([gate, up]) => `if (m < params.M && n < params.n_count) {
        y[m * params.N + params.n_offset + n] = ${v.gated ? `silu(${gate}) * ${up}` : gate};
      }`,
  });
}

/** A weight operand (`w` or `w3`) of the tiled shader, with the WGSL functions that read it. */
function weightOperand(v: Variant, buffer: 'w' | 'w3', tile: string, quads: boolean) {
  const suffix = buffer === 'w' ? '' : '_3';
  if (quads) {
    const load = `load_w4${suffix}`;
    const operand: GemmOperand = {
      tile,
      layout: 'rows',
      fetch: (row, k) =>
        `select(vec4f(0.0), ${load}((${row}) * (params.K / 4u) + (${k}) / 4u), ${row} < params.n_count && ${k} < params.K)`,
    };
    return { operand, functions: quadWeightLoader(v.dtype, buffer).load.replace('fn load_w4(', `fn ${load}(`) };
  }
  const load = `load_w${suffix}`;
  const operand: GemmOperand = { tile, layout: 'rows', fetch: (row, k) => `fetch_${load}(${row}, ${k})` };
  const functions = `${weightLoader(v.dtype, buffer).load.replace('fn load_w(', `fn ${load}(`)}
fn fetch_${load}(n: u32, k: u32) -> vec4f {
  var out = vec4f(0.0);
  for (var t = 0u; t < 4u; t++) {
    if (n < params.n_count && k + t < params.K) { out[t] = ${load}(n * params.K + k + t); }
  }
  return out;
}`;
  return { operand, functions };
}

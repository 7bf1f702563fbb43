import { type GemmOperand, load4, tiledGemmShader } from '../../webgpu/gemm.wgsl.js';
import { uniformParams } from '../../webgpu/params.js';

export const MATMUL_GRAD_PARAMS = uniformParams({ rows: 'u32', cols: 'u32', inner: 'u32', accumulate: 'u32' });

/**
 * c [rows, cols] (+)= a · b over `inner` on the tiled GEMM (webgpu/gemm.wgsl.ts), b stored
 * [inner, cols] (k-major); a stored [rows, inner] (matmulGradInput: dY · W) or transposed as
 * [inner, rows] (matmulGradWeight: dYᵀ · X).
 */
function gradientShader(transposedA: boolean): string {
  const kMajor = (buffer: string, tile: string, count: string): GemmOperand => ({
    tile,
    layout: 'kMajor',
    fetch: (at, k) => load4(buffer, `(${k}) * ${count} + ${at}`, `${k} < params.inner`, at, count),
  });
  const a: GemmOperand = transposedA
    ? kMajor('a', 'tile_a', 'params.rows')
    : {
        tile: 'tile_a',
        layout: 'rows',
        fetch: (i, k) => load4('a', `(${i}) * params.inner + ${k}`, `${i} < params.rows`, k, 'params.inner'),
      };
  return tiledGemmShader({
    prelude: `
${MATMUL_GRAD_PARAMS.struct}
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;`,
    depth: 'params.inner',
    a,
    b: [kMajor('b', 'tile_b', 'params.cols')],
    prefetch: false,
    store: ([sum]) => `if (m < params.rows && n < params.cols) {
        let index = m * params.cols + n;
        if (params.accumulate == 1u) { c[index] += ${sum}; } else { c[index] = ${sum}; }
      }`,
  });
}

export const MATMUL_GRAD_INPUT = gradientShader(false);
export const MATMUL_GRAD_WEIGHT = gradientShader(true);

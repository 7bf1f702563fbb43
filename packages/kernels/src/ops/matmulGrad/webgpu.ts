import type { Tensor } from '../../tensor.js';
import { GEMM_TILE } from '../../webgpu/gemm.wgsl.js';
import { binding, type GpuDispatch, type WebGPUKernel } from '../../webgpu/kernel.js';
import { MATMUL_GRAD_INPUT, MATMUL_GRAD_PARAMS, MATMUL_GRAD_WEIGHT } from './matmul-grad.wgsl.js';

function tiled(
  op: string,
  shader: string,
  tensors: readonly Tensor[],
  p: { rows: number; cols: number; inner: number; accumulate: boolean },
): GpuDispatch[] {
  return [
    {
      shader,
      bindings: tensors.map((t) => binding(t, op)),
      uniforms: MATMUL_GRAD_PARAMS.values(p),
      workgroups: [Math.max(1, Math.ceil(p.cols / GEMM_TILE)), Math.max(1, Math.ceil(p.rows / GEMM_TILE))],
    },
  ];
}

/** dX [M, K] = dY [M, N] · W [N, K]. */
export const matmulGradInput: WebGPUKernel<'matmulGradInput'> = ({ dY, w }, { dX }, { M, N, K }) =>
  tiled('matmulGradInput', MATMUL_GRAD_INPUT, [dY, w, dX], { rows: M, cols: K, inner: N, accumulate: false });

/** dW [N, K] = dYᵀ [N, M] · X [M, K], dY stored [M, N]. */
export const matmulGradWeight: WebGPUKernel<'matmulGradWeight'> = ({ dY, x }, { dW }, { M, N, K, accumulate }) =>
  tiled('matmulGradWeight', MATMUL_GRAD_WEIGHT, [dY, x, dW], { rows: N, cols: K, inner: M, accumulate });

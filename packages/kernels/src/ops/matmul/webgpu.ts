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
import type { Tensor } from '../../tensor.js';
import { isFourToSixBit, UNIT_ELEMENTS } from '../../webgpu/block-weights.js';
import { GEMM_TILE } from '../../webgpu/gemm.wgsl.js';
import {
  binding,
  chunksOf,
  type GpuDispatch,
  grid,
  type KernelContext,
  type WebGPUKernel,
} from '../../webgpu/kernel.js';
import type { GpuChunk } from '../../webgpu/storage.js';
import { GROUP_ELEMENTS, scalesWord } from '../../webgpu/weights.js';
import { MATMUL_PARAMS, type Variant } from './common.wgsl.js';
import { MATVEC_THREADS, matvecLanes, matvecShader, ROWS_PER_LANE } from './matvec.wgsl.js';
import { matvecBlocksShader } from './matvec-blocks.wgsl.js';
import { tiledShader } from './tiled.wgsl.js';

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
    return { shader: cachedShader(key, () => tiledShader(v, aligned)), rowsPerGroup: GEMM_TILE };
  }
  if (isFourToSixBit(v.dtype)) {
    const lanes = matvecLanes((K / UNIT_ELEMENTS[v.dtype]) * 2); // a unit is two or more 16-byte loads
    const key = `${v.dtype}-${v.gated}-blocks-${context.subgroups}-${lanes}`;
    const dtype = v.dtype;
    return {
      shader: cachedShader(key, () => matvecBlocksShader({ ...v, dtype }, context.subgroups, lanes)),
      rowsPerGroup: MATVEC_THREADS / lanes,
    };
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
        // Rounded up to 16 bytes (buffers come in multiples of 256): weights read as vec4s must
        // reach their last, partly padded vec4 (a block format's last plane ends 4-byte aligned).
        return {
          buffer: part.buffer,
          offset: 0,
          size: Math.min(part.buffer.size, Math.ceil(part.byteLength / 16) * 16),
        };
      }),
      yBinding,
    ],
    uniforms: MATMUL_PARAMS.values({
      M,
      N,
      K,
      n_offset: chunk.rowStart,
      n_count: chunk.rowCount,
      scales_word: scalesWord(v.dtype, chunk.rowCount * K),
    }),
    workgroups:
      M === 1
        ? grid(Math.ceil(chunk.rowCount / rowsPerGroup), context)
        : [Math.ceil(chunk.rowCount / GEMM_TILE), Math.ceil(M / GEMM_TILE)],
  }));
}

export const matmul: WebGPUKernel<'matmul'> = ({ x, w }, { y }, p, context) =>
  plan('matmul', { dtype: p.weightDType, gated: false }, x, [w], y, p, context);

export const matmulSwiglu: WebGPUKernel<'matmulSwiglu'> = ({ x, w1, w3 }, { y }, p, context) =>
  plan('matmulSwiglu', { dtype: p.weightDType, gated: true }, x, [w1, w3], y, p, context);

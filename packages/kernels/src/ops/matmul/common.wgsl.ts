import type { WeightDType } from '../../dtype.js';
import { uniformParams } from '../../webgpu/params.js';

export const MATMUL_PARAMS = uniformParams({
  M: 'u32',
  N: 'u32',
  K: 'u32',
  n_offset: 'u32',
  n_count: 'u32',
  scales_word: 'u32',
});

/** Which shader of the family: the weight dtype, and whether it is the gated form (w1 and w3). */
export interface Variant {
  dtype: WeightDType;
  gated: boolean;
}

/** Bindings: x, w (or w1 and w3 when gated), y, params. */
export function bindings(v: Variant, xType: string, wType: string): string {
  const weights = v.gated
    ? `@group(0) @binding(1) var<storage, read> w: ${wType};
@group(0) @binding(2) var<storage, read> w3: ${wType};`
    : `@group(0) @binding(1) var<storage, read> w: ${wType};`;
  const next = v.gated ? 3 : 2;
  return `${MATMUL_PARAMS.struct}
@group(0) @binding(0) var<storage, read> x: ${xType};
${weights}
@group(0) @binding(${next}) var<storage, read_write> y: array<f32>;
@group(0) @binding(${next + 1}) var<uniform> params: Params;`;
}

export const SILU = 'fn silu(z: f32) -> f32 { return z / (1.0 + exp(-z)); }';

import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { f32, i32 } from '../views.js';
import { gemm, into, rowMajor, transposed } from './gemm.js';

/**
 * dX [M, K] = dY [M, N] · W [N, K]: the gemm with W read transposed (its rows n are the summed
 * axis), so nothing is transposed in memory and the inner loop stays register-blocked.
 */
export function matmulGradInput(
  [dY, w]: readonly Tensor[],
  [dX]: readonly Tensor[],
  { M, N, K }: OpParams['matmulGradInput'],
): void {
  const gs = f32(dY as Tensor);
  const ws = f32(w as Tensor);
  gemm(rowMajor(gs, N), transposed(ws, K), into(f32(dX as Tensor), K), M, K, N);
}

/** dW [N, K] (+)= dYᵀ · X: the gemm with both operands read transposed (the summed axis is m). */
export function matmulGradWeight(
  [dY, x]: readonly Tensor[],
  [dW]: readonly Tensor[],
  { M, N, K, accumulate }: OpParams['matmulGradWeight'],
): void {
  const gs = f32(dY as Tensor);
  const xs = f32(x as Tensor);
  gemm(transposed(gs, N), transposed(xs, K), into(f32(dW as Tensor), K, { accumulate }), N, K, M);
}

export function crossEntropy(
  [logits, targets]: readonly Tensor[],
  [loss, dLogits]: readonly Tensor[],
  { rows, cols, scale }: OpParams['crossEntropy'],
): void {
  const xs = f32(logits as Tensor);
  const ids = i32(targets as Tensor);
  const ls = f32(loss as Tensor);
  const ds = f32(dLogits as Tensor);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const id = ids[r] as number;
    if (id < 0 || id >= cols) {
      ls[r] = 0;
      ds.fill(0, base, base + cols);
      continue;
    }
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < cols; c++) max = Math.max(max, xs[base + c] as number);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp((xs[base + c] as number) - max);
    ls[r] = Math.log(sum) - ((xs[base + id] as number) - max);
    for (let c = 0; c < cols; c++) {
      const p = Math.exp((xs[base + c] as number) - max) / sum;
      ds[base + c] = (p - (c === id ? 1 : 0)) * scale;
    }
  }
}

export function rmsNormBackward(
  [x, weight, dY]: readonly Tensor[],
  [dX, dWeight, rstdOut]: readonly Tensor[],
  { rows, dim, eps, accumulate }: OpParams['rmsNormBackward'],
): void {
  const xs = f32(x as Tensor);
  const ws = f32(weight as Tensor);
  const gs = f32(dY as Tensor);
  const dxs = f32(dX as Tensor);
  const dws = f32(dWeight as Tensor);
  const rstds = f32(rstdOut as Tensor);
  const dw = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sumSquares = 0;
    let dot = 0;
    for (let i = 0; i < dim; i++) {
      const xi = xs[base + i] as number;
      sumSquares += xi * xi;
      dot += (gs[base + i] as number) * (ws[i] as number) * xi;
    }
    const rstd = 1 / Math.sqrt(sumSquares / dim + eps);
    rstds[r] = rstd;
    const coefficient = (dot * rstd * rstd * rstd) / dim;
    for (let i = 0; i < dim; i++) {
      const xi = xs[base + i] as number;
      const g = gs[base + i] as number;
      dxs[base + i] = g * (ws[i] as number) * rstd - xi * coefficient;
      dw[i] = (dw[i] as number) + g * xi * rstd;
    }
  }
  for (let i = 0; i < dim; i++) dws[i] = (accumulate ? (dws[i] as number) : 0) + (dw[i] as number);
}

export function swigluBackward(
  [a, b, dY]: readonly Tensor[],
  [dA, dB]: readonly Tensor[],
  { size }: OpParams['swigluBackward'],
): void {
  const as = f32(a as Tensor);
  const bs = f32(b as Tensor);
  const gs = f32(dY as Tensor);
  const das = f32(dA as Tensor);
  const dbs = f32(dB as Tensor);
  for (let i = 0; i < size; i++) {
    const z = as[i] as number;
    const g = gs[i] as number;
    const sigma = 1 / (1 + Math.exp(-z));
    das[i] = g * (bs[i] as number) * sigma * (1 + z * (1 - sigma));
    dbs[i] = g * z * sigma;
  }
}

export function embeddingBackward(
  [ids, dY]: readonly Tensor[],
  [dTable]: readonly Tensor[],
  { tokens, vocab, dim, accumulate }: OpParams['embeddingBackward'],
): void {
  const tokenIds = i32(ids as Tensor);
  const gs = f32(dY as Tensor);
  const out = f32(dTable as Tensor);
  if (!accumulate) out.fill(0);
  for (let t = 0; t < tokens; t++) {
    const id = tokenIds[t] as number;
    if (id < 0 || id >= vocab) continue;
    for (let d = 0; d < dim; d++) out[id * dim + d] = (out[id * dim + d] as number) + (gs[t * dim + d] as number);
  }
}

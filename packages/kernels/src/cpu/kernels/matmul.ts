import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { f32, weightRowReader } from '../views.js';

/**
 * y[m, n] = Σ_k x[m, k] · w[n, k]. Weight rows are the outer loop, four at a time, so each is
 * read (and dequantised) once however many rows x has, and each x row is read once per four
 * outputs.
 */
export function matmul([x, w]: readonly Tensor[], [y]: readonly Tensor[], { M, N, K }: OpParams['matmul']): void {
  const xs = f32(x as Tensor);
  const ys = f32(y as Tensor);
  const readRow = weightRowReader(w as Tensor, K);
  const scratch = [0, 1, 2, 3].map(() => new Float32Array(K));
  let n = 0;
  // One x row (decode): the four-way unrolled dot per weight row is faster than sharing x.
  for (; M > 1 && n + 3 < N; n += 4) {
    const w0 = readRow(n, scratch[0] as Float32Array);
    const w1 = readRow(n + 1, scratch[1] as Float32Array);
    const w2 = readRow(n + 2, scratch[2] as Float32Array);
    const w3 = readRow(n + 3, scratch[3] as Float32Array);
    for (let m = 0; m < M; m++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      const base = m * K;
      for (let k = 0; k < K; k++) {
        const v = xs[base + k] as number;
        s0 += v * (w0[k] as number);
        s1 += v * (w1[k] as number);
        s2 += v * (w2[k] as number);
        s3 += v * (w3[k] as number);
      }
      const out = m * N + n;
      ys[out] = s0;
      ys[out + 1] = s1;
      ys[out + 2] = s2;
      ys[out + 3] = s3;
    }
  }
  for (; n < N; n++) {
    const row = readRow(n, scratch[0] as Float32Array);
    for (let m = 0; m < M; m++) ys[m * N + n] = dot(xs, m * K, row, 0, K);
  }
}

/** silu(x · w1ᵀ) ⊙ (x · w3ᵀ): the two matmuls, then the gate, row by row (no full intermediates). */
export function matmulSwiglu(
  [x, w1, w3]: readonly Tensor[],
  [y]: readonly Tensor[],
  { M, N, K }: OpParams['matmulSwiglu'],
): void {
  const xs = f32(x as Tensor);
  const ys = f32(y as Tensor);
  const readGate = weightRowReader(w1 as Tensor, K);
  const readUp = weightRowReader(w3 as Tensor, K);
  const gateScratch = new Float32Array(K);
  const upScratch = new Float32Array(K);
  for (let n = 0; n < N; n++) {
    const gate = readGate(n, gateScratch);
    const up = readUp(n, upScratch);
    for (let m = 0; m < M; m++) {
      const g = dot(xs, m * K, gate, 0, K);
      ys[m * N + n] = (g / (1 + Math.exp(-g))) * dot(xs, m * K, up, 0, K);
    }
  }
}

export function dot(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < length; k += 4) {
    s0 += (a[aOffset + k] as number) * (b[bOffset + k] as number);
    s1 += (a[aOffset + k + 1] as number) * (b[bOffset + k + 1] as number);
    s2 += (a[aOffset + k + 2] as number) * (b[bOffset + k + 2] as number);
    s3 += (a[aOffset + k + 3] as number) * (b[bOffset + k + 3] as number);
  }
  for (; k < length; k++) s0 += (a[aOffset + k] as number) * (b[bOffset + k] as number);
  return s0 + s1 + (s2 + s3);
}

import type { OpParams } from '../../ops/params.js';
import type { Tensor } from '../../tensor.js';
import { f32, weightRowReader } from '../views.js';

/**
 * y[m, n] = Σ_k x[m, k] · w[n, k]. Weight rows are the outer loop so each is read (and
 * dequantised) once however many rows x has; the dot product is unrolled by four.
 */
export function matmul([x, w]: readonly Tensor[], [y]: readonly Tensor[], { M, N, K }: OpParams['matmul']): void {
  const xs = f32(x as Tensor);
  const ys = f32(y as Tensor);
  const readRow = weightRowReader(w as Tensor, K);
  const scratch = new Float32Array(K);
  for (let n = 0; n < N; n++) {
    const row = readRow(n, scratch);
    for (let m = 0; m < M; m++) ys[m * N + n] = dot(xs, m * K, row, 0, K);
  }
}

/** Σ a[aOffset + k] · b[bOffset + k] for k < length, in four partial sums. */
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

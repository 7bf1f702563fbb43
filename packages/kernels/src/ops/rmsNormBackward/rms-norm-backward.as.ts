import { at4, partStart } from '../../wasm/kernels/common.as';
import { rowSumSquares } from '../../wasm/kernels/rows.as';

/**
 * rmsNorm's backward, pass 1 (rows split across threads): rstd per row and
 * dX = rstd · (dY ⊙ w) - x · rstd³ · Σ(dY ⊙ w ⊙ x) / D.
 */
export function rmsNormBackwardRows(
  tid: i32,
  nthreads: i32,
  x: usize,
  weight: usize,
  dY: usize,
  dX: usize,
  rstdOut: usize,
  rows: i32,
  dim: i32,
  eps: f32,
): void {
  const first = partStart(tid, nthreads, rows, 1);
  const last = partStart(tid + 1, nthreads, rows, 1);
  for (let r = first; r < last; r++) {
    const xr = at4(x, r * dim);
    const gr = at4(dY, r * dim);
    const dxr = at4(dX, r * dim);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= dim; i += 4) {
      acc = f32x4.add(acc, f32x4.mul(f32x4.mul(v128.load(at4(gr, i)), v128.load(at4(weight, i))), v128.load(at4(xr, i))));
    }
    let dot = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    for (; i < dim; i++) dot += load<f32>(at4(gr, i)) * load<f32>(at4(weight, i)) * load<f32>(at4(xr, i));
    const rstd: f32 = 1 / Mathf.sqrt(rowSumSquares(xr, dim) / <f32>dim + eps);
    store<f32>(at4(rstdOut, r), rstd);
    const coefficient: f32 = (dot * rstd * rstd * rstd) / <f32>dim;
    const rs = f32x4.splat(rstd);
    const cs = f32x4.splat(coefficient);
    i = 0;
    for (; i + 4 <= dim; i += 4) {
      const term = f32x4.mul(f32x4.mul(v128.load(at4(gr, i)), v128.load(at4(weight, i))), rs);
      v128.store(at4(dxr, i), f32x4.sub(term, f32x4.mul(v128.load(at4(xr, i)), cs)));
    }
    for (; i < dim; i++) {
      store<f32>(at4(dxr, i), load<f32>(at4(gr, i)) * load<f32>(at4(weight, i)) * rstd - load<f32>(at4(xr, i)) * coefficient);
    }
  }
}

/** Pass 2 (columns split across threads): dWeight (+)= Σ_rows dY ⊙ x · rstd. */
export function rmsNormBackwardWeight(
  tid: i32,
  nthreads: i32,
  x: usize,
  dY: usize,
  rstd: usize,
  dWeight: usize,
  rows: i32,
  dim: i32,
  accumulate: i32,
): void {
  const start = partStart(tid, nthreads, dim, 4);
  const end = partStart(tid + 1, nthreads, dim, 4);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    let acc = f32x4.splat(0);
    for (let r = 0; r < rows; r++) {
      const xg = f32x4.mul(v128.load(at4(x, r * dim + i)), v128.load(at4(dY, r * dim + i)));
      acc = f32x4.add(acc, f32x4.mul(xg, f32x4.splat(load<f32>(at4(rstd, r)))));
    }
    if (accumulate) acc = f32x4.add(acc, v128.load(at4(dWeight, i)));
    v128.store(at4(dWeight, i), acc);
  }
  for (; i < end; i++) {
    let sum: f32 = 0;
    for (let r = 0; r < rows; r++) sum += load<f32>(at4(x, r * dim + i)) * load<f32>(at4(dY, r * dim + i)) * load<f32>(at4(rstd, r));
    store<f32>(at4(dWeight, i), accumulate ? load<f32>(at4(dWeight, i)) + sum : sum);
  }
}

// Row reductions shared by the kernels of several ops (softmax, logSoftmaxGather, crossEntropy;
// rmsNorm, rmsNormBackward), as src/cpu/reduce.ts is for the CPU twins.
import { at4, expf, expf4 } from './common.as';

/** The largest of `cols` f32 at `row` (-inf for none; NaN never wins, as in the reference). */
@inline
export function rowMax(row: usize, cols: i32): f32 {
  let max: f32 = -Infinity;
  for (let c = 0; c < cols; c++) {
    const v = load<f32>(at4(row, c));
    if (v > max) max = v;
  }
  return max;
}

/** Σ e^(x - max) over one row (in f32 lanes, added pairwise at the end). */
@inline
export function rowSumExp(row: usize, cols: i32, max: f32): f32 {
  const m = f32x4.splat(max);
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= cols; c += 4) acc = f32x4.add(acc, expf4(f32x4.sub(v128.load(at4(row, c)), m)));
  let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; c < cols; c++) sum += expf(load<f32>(at4(row, c)) - max);
  return sum;
}

/** Σ x² over one row of `dim` f32 at `row`. */
@inline
export function rowSumSquares(row: usize, dim: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= dim; i += 4) {
    const v = v128.load(at4(row, i));
    acc = f32x4.add(acc, f32x4.mul(v, v));
  }
  let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; i < dim; i++) {
    const v = load<f32>(at4(row, i));
    sum += v * v;
  }
  return sum;
}

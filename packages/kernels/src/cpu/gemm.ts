/**
 * The one matrix-product loop of the CPU backend: C[i, j] (+)= Σ_p A[i, p] · B[j, p], where every
 * operand is addressed through strides, so that the forward matmul (y = x · wᵀ) and both of its
 * gradients (dX = dY · W, dW = dYᵀ · X) run the same loop without transposing anything first.
 *
 * Why it is shaped this way (measured in Node 20 on the 2-core development machine, training
 * shapes such as 768 × 352 × 128): a plain dot product per output reaches about 1.7 GFLOP/s and an
 * axpy loop (c[i, :] += a · b[:]) about 0.9, because each multiply-add pays for one or two loads
 * and, for axpy, a store. Computing a 4 × 4 block of outputs at once in 16 local accumulators (V8
 * keeps them in registers) needs only 8 loads for 16 multiply-adds and no store in the inner loop:
 * 4.0–4.4 GFLOP/s, whichever operand the inner loop walks with a stride. Larger blocks (4 × 8)
 * spill registers and are no faster. JS arithmetic is in doubles, so the sums are accumulated in
 * f64 and rounded to f32 once, when stored.
 *
 * Keep every caller passing Float32Arrays: a second array type makes V8's code polymorphic and
 * costs about 20 %.
 */

/** A [rows, depth] operand read as m[offset + row · rowStride + p · depthStride]. */
export interface StridedMatrix {
  data: Float32Array;
  offset: number;
  rowStride: number;
  depthStride: number;
}

/** The output: c[offset + i · rowStride + j] for i < rows (of A), j < cols (rows of B). */
export interface GemmOutput {
  data: Float32Array;
  offset: number;
  rowStride: number;
  /** Add to what is there instead of overwriting it. */
  accumulate: boolean;
}

/*
 * The helpers below take a row-major array's row stride (its row length, or the full row length
 * when the matrix is a block of columns, such as one attention head's slice of [T, heads · Dh])
 * and the offset of its first element.
 */

/** A row-major matrix used as it is: its rows are the gemm's rows, its columns the summed axis. */
export function rowMajor(data: Float32Array, rowStride: number, offset = 0): StridedMatrix {
  return { data, offset, rowStride, depthStride: 1 };
}

/** A row-major matrix used transposed: its columns are the gemm's rows, its rows the summed axis. */
export function transposed(data: Float32Array, rowStride: number, offset = 0): StridedMatrix {
  return { data, offset, rowStride: 1, depthStride: rowStride };
}

/** A row-major output. */
export function into(
  data: Float32Array,
  rowStride: number,
  options: { offset?: number; accumulate?: boolean } = {},
): GemmOutput {
  return { data, offset: options.offset ?? 0, rowStride, accumulate: options.accumulate ?? false };
}

/**
 * C (+)= A · Bᵀ for A [rows, depth], B [cols, depth], C [rows, cols]. B's rows (j) are the outer
 * loop so that a block of four of them stays in L1 while every row of A streams past it.
 */
export function gemm(
  a: StridedMatrix,
  b: StridedMatrix,
  c: GemmOutput,
  rows: number,
  cols: number,
  depth: number,
): void {
  const A = a.data;
  const B = b.data;
  const C = c.data;
  const { rowStride: ai, depthStride: ap } = a;
  const { rowStride: bj, depthStride: bp } = b;
  const cRow = c.rowStride;
  const add = c.accumulate;
  let j = 0;
  for (; j + 3 < cols; j += 4) {
    let i = 0;
    // biome-ignore format: the 4 × 4 block reads best one block row per line
    for (; i + 3 < rows; i += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      let pa = a.offset + i * ai;
      let pb = b.offset + j * bj;
      for (let p = 0; p < depth; p++, pa += ap, pb += bp) {
        const b0 = B[pb] as number;
        const b1 = B[pb + bj] as number;
        const b2 = B[pb + 2 * bj] as number;
        const b3 = B[pb + 3 * bj] as number;
        let x = A[pa] as number;
        s00 += x * b0; s01 += x * b1; s02 += x * b2; s03 += x * b3;
        x = A[pa + ai] as number;
        s10 += x * b0; s11 += x * b1; s12 += x * b2; s13 += x * b3;
        x = A[pa + 2 * ai] as number;
        s20 += x * b0; s21 += x * b1; s22 += x * b2; s23 += x * b3;
        x = A[pa + 3 * ai] as number;
        s30 += x * b0; s31 += x * b1; s32 += x * b2; s33 += x * b3;
      }
      let o = c.offset + i * cRow + j;
      store4(C, o, add, s00, s01, s02, s03);
      o += cRow;
      store4(C, o, add, s10, s11, s12, s13);
      o += cRow;
      store4(C, o, add, s20, s21, s22, s23);
      o += cRow;
      store4(C, o, add, s30, s31, s32, s33);
    }
    // The last rows % 4 rows of A: one row against the same four rows of B.
    for (; i < rows; i++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let pa = a.offset + i * ai;
      let pb = b.offset + j * bj;
      for (let p = 0; p < depth; p++, pa += ap, pb += bp) {
        const x = A[pa] as number;
        s0 += x * (B[pb] as number);
        s1 += x * (B[pb + bj] as number);
        s2 += x * (B[pb + 2 * bj] as number);
        s3 += x * (B[pb + 3 * bj] as number);
      }
      store4(C, c.offset + i * cRow + j, add, s0, s1, s2, s3);
    }
  }
  // The last cols % 4 rows of B: plain dot products.
  for (; j < cols; j++) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      let pa = a.offset + i * ai;
      let pb = b.offset + j * bj;
      for (let p = 0; p < depth; p++, pa += ap, pb += bp) s += (A[pa] as number) * (B[pb] as number);
      const o = c.offset + i * cRow + j;
      C[o] = add ? (C[o] as number) + s : s;
    }
  }
}

function store4(C: Float32Array, o: number, add: boolean, s0: number, s1: number, s2: number, s3: number): void {
  if (add) {
    C[o] = (C[o] as number) + s0;
    C[o + 1] = (C[o + 1] as number) + s1;
    C[o + 2] = (C[o + 2] as number) + s2;
    C[o + 3] = (C[o + 3] as number) + s3;
  } else {
    C[o] = s0;
    C[o + 1] = s1;
    C[o + 2] = s2;
    C[o + 3] = s3;
  }
}

/** The largest of xs[base .. base + cols - 1] (-Infinity for an empty row). */
export function rowMax(xs: Float32Array, base: number, cols: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < cols; c++) if ((xs[base + c] as number) > max) max = xs[base + c] as number;
  return max;
}

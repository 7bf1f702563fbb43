/**
 * Float64 reference implementations of every op, written plainly from the contracts in
 * src/op-contract.ts and independent of src/cpu. Inputs are the f32 values the kernels see (weights
 * as stored, see harness.asStored); every intermediate is a JavaScript number (float64).
 */

type Values = ArrayLike<number>;

/** y[m, n] = Σ_k x[m, k] · w[n, k]; also Σ_k |x[m, k] · w[n, k]|, the scale of the rounding error. */
export function matmulRef(
  x: Values,
  w: Values,
  M: number,
  N: number,
  K: number,
): { y: Float64Array; absSum: Float64Array } {
  const y = new Float64Array(M * N);
  const absSum = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0;
      let abs = 0;
      for (let k = 0; k < K; k++) {
        const p = (x[m * K + k] as number) * (w[n * K + k] as number);
        sum += p;
        abs += Math.abs(p);
      }
      y[m * N + n] = sum;
      absSum[m * N + n] = abs;
    }
  }
  return { y, absSum };
}

/**
 * x [M, K] as a kernel that quantizes activations per block of 32 for q8_0 weights sees it (the
 * wasm backend's decode, llama.cpp's q8_0 · q8_0): each element q · d, with the block's
 * d = max|x| / 127 and q = x · (127 / max|x|) rounded half to even, every step in f32 as the kernel
 * does it. A kernel that then takes the integer dot products exactly meets matmulRef on this x
 * within the f32 tolerance.
 */
export function quantizeActivationsQ8Ref(x: Values, M: number, K: number): Float64Array {
  const out = new Float64Array(M * K);
  for (let start = 0; start < M * K; start += 32) {
    let amax = 0;
    for (let i = start; i < start + 32; i++) amax = Math.max(amax, Math.abs(x[i] as number));
    const d = Math.fround(amax / 127);
    const inv = amax > 0 ? Math.fround(127 / amax) : 0;
    for (let i = start; i < start + 32; i++) out[i] = roundHalfEven(Math.fround((x[i] as number) * inv)) * d;
  }
  return out;
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Rows of table [V, D] for ids; ids outside 0..V-1 give zero rows. */
export function embeddingRef(table: Values, ids: Values, vocab: number, dim: number): Float64Array {
  const y = new Float64Array(ids.length * dim);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t] as number;
    if (id < 0 || id >= vocab) continue;
    for (let d = 0; d < dim; d++) y[t * dim + d] = table[id * dim + d] as number;
  }
  return y;
}

/** y = x / sqrt(mean(x²) + eps) * weight per row. */
export function rmsNormRef(x: Values, weight: Values, rows: number, dim: number, eps: number): Float64Array {
  const y = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let d = 0; d < dim; d++) ss += (x[r * dim + d] as number) ** 2;
    const inv = 1 / Math.sqrt(ss / dim + eps);
    for (let d = 0; d < dim; d++) y[r * dim + d] = (x[r * dim + d] as number) * inv * (weight[d] as number);
  }
  return y;
}

/** The standard RoPE frequencies 1 / theta^(2j / headDim), j < headDim / 2, in float64. */
export function standardFrequencies(headDim: number, theta: number): Float64Array {
  return Float64Array.from({ length: headDim / 2 }, (_, j) => 1 / theta ** ((2 * j) / headDim));
}

/**
 * A non-standard spectrum, as a model's rescaling gives (Llama 3.1 divides the long wavelengths by
 * 8): the standard frequencies with the lower half divided by 8.
 */
export function rescaledFrequencies(headDim: number, theta: number): Float64Array {
  const freqs = standardFrequencies(headDim, theta);
  return freqs.map((f, j) => (j >= freqs.length / 2 ? f / 8 : f));
}

/**
 * Rotary embedding of x [B, T, H, Dh] at positions startPos + t, with angle (startPos + t) · freqs[j]
 * and its cos and sin in float64. 'interleaved' rotates (x[2j], x[2j+1]); 'half' (x[j], x[j + Dh/2]).
 */
export function ropeRef(
  x: Values,
  freqs: Values,
  shape: readonly [number, number, number, number],
  /** One start for every row, or row b's own start (per-row cache positions). */
  startPos: number | readonly number[],
  layout: 'interleaved' | 'half',
): Float64Array {
  const [B, T, H, Dh] = shape;
  const half = Dh / 2;
  const y = new Float64Array(B * T * H * Dh);
  for (let b = 0; b < B; b++) {
    const start = typeof startPos === 'number' ? startPos : (startPos[b] as number);
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        const base = ((b * T + t) * H + h) * Dh;
        for (let j = 0; j < half; j++) {
          const angle = (start + t) * (freqs[j] as number);
          const c = Math.cos(angle);
          const s = Math.sin(angle);
          const i0 = base + (layout === 'interleaved' ? 2 * j : j);
          const i1 = base + (layout === 'interleaved' ? 2 * j + 1 : j + half);
          const x0 = x[i0] as number;
          const x1 = x[i1] as number;
          y[i0] = x0 * c - x1 * s;
          y[i1] = x0 * s + x1 * c;
        }
      }
    }
  }
  return y;
}

/** Where row b of a batch sits in a KV cache (per-row cache positions). */
export interface RowPlacement {
  slot: number;
  startPos: number;
}

/** Row b's slot and start: `rows[b]` when given, else slot + b at startPos. */
function placement(rows: readonly RowPlacement[] | undefined, b: number, startPos: number, slot: number): RowPlacement {
  return rows ? (rows[b] as RowPlacement) : { slot: slot + b, startPos };
}

export interface CacheGeometry {
  slots: number;
  maxSeqLen: number;
  kvHeads: number;
  headDim: number;
}

/**
 * Writes values [B, T, Hkv, Dh] into cache [S, L, Hkv, Dh] (in place) at startPos.., slots slot..
 * (or row b at rows[b]'s slot and start).
 */
export function kvWriteRef(
  cache: Float64Array,
  values: Values,
  g: CacheGeometry,
  batch: number,
  tokens: number,
  startPos: number,
  slot: number,
  rows?: readonly RowPlacement[],
): void {
  const row = g.kvHeads * g.headDim;
  for (let b = 0; b < batch; b++) {
    const at = placement(rows, b, startPos, slot);
    for (let t = 0; t < tokens; t++) {
      for (let i = 0; i < row; i++) {
        cache[(at.slot * g.maxSeqLen + at.startPos + t) * row + i] = values[(b * tokens + t) * row + i] as number;
      }
    }
  }
}

/**
 * Causal GQA: query (b, t, h) at position startPos + t attends to cache positions 0..startPos + t
 * of slot + b, kv head floor(h / (H / Hkv)), scale 1/sqrt(Dh). q [B, T, H, Dh] → y [B, T, H, Dh].
 * With rows, row b's queries sit at rows[b].startPos + t of slot rows[b].slot.
 */
export function attentionRef(
  q: Values,
  kCache: Values,
  vCache: Values,
  g: CacheGeometry,
  batch: number,
  tokens: number,
  heads: number,
  startPos: number,
  slot: number,
  rows?: readonly RowPlacement[],
): Float64Array {
  const { headDim: Dh, kvHeads, maxSeqLen } = g;
  const group = heads / kvHeads;
  const scale = 1 / Math.sqrt(Dh);
  const row = kvHeads * Dh;
  const y = new Float64Array(batch * tokens * heads * Dh);
  for (let b = 0; b < batch; b++) {
    const at = placement(rows, b, startPos, slot);
    for (let t = 0; t < tokens; t++) {
      const visible = at.startPos + t + 1;
      for (let h = 0; h < heads; h++) {
        const kvh = Math.floor(h / group);
        const qBase = ((b * tokens + t) * heads + h) * Dh;
        const scores = new Float64Array(visible);
        let max = Number.NEGATIVE_INFINITY;
        for (let s = 0; s < visible; s++) {
          const kBase = (at.slot * maxSeqLen + s) * row + kvh * Dh;
          let dot = 0;
          for (let d = 0; d < Dh; d++) dot += (q[qBase + d] as number) * (kCache[kBase + d] as number);
          scores[s] = dot * scale;
          max = Math.max(max, dot * scale);
        }
        let sum = 0;
        for (let s = 0; s < visible; s++) {
          scores[s] = Math.exp((scores[s] as number) - max);
          sum += scores[s] as number;
        }
        for (let s = 0; s < visible; s++) {
          const p = (scores[s] as number) / sum;
          const vBase = (at.slot * maxSeqLen + s) * row + kvh * Dh;
          for (let d = 0; d < Dh; d++) y[qBase + d] = (y[qBase + d] as number) + p * (vCache[vBase + d] as number);
        }
      }
    }
  }
  return y;
}

/** silu(a) * b, silu(z) = z / (1 + e^-z). */
export function swigluRef(a: Values, b: Values): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const z = a[i] as number;
    y[i] = (z / (1 + Math.exp(-z))) * (b[i] as number);
  }
  return y;
}

export function addRef(a: Values, b: Values): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = (a[i] as number) + (b[i] as number);
  return y;
}

function rowMax(x: Values, base: number, cols: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < cols; c++) max = Math.max(max, x[base + c] as number);
  return max;
}

export function softmaxRef(x: Values, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const max = rowMax(x, base, cols);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp((x[base + c] as number) - max);
    for (let c = 0; c < cols; c++) y[base + c] = Math.exp((x[base + c] as number) - max) / sum;
  }
  return y;
}

/** log softmax(x[r])[ids[r]]; 0 for a negative id. */
export function logSoftmaxGatherRef(x: Values, ids: Values, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const id = ids[r] as number;
    if (id < 0) continue;
    const base = r * cols;
    const max = rowMax(x, base, cols);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp((x[base + c] as number) - max);
    y[r] = (x[base + id] as number) - max - Math.log(sum);
  }
  return y;
}

/** Index of the first maximum per row. */
export function argmaxRef(x: Values, rows: number, cols: number): Int32Array {
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if ((x[r * cols + c] as number) > (x[r * cols + best] as number)) best = c;
    y[r] = best;
  }
  return y;
}

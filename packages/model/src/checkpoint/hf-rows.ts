import { ModelError } from '../errors.js';

/**
 * The rows of q_proj/k_proj in a Hugging Face checkpoint are permuted per head (spec §4.9), and the
 * safetensors reader keeps them that way, so RoPE must rotate the pairs (x[i], x[i + head_dim/2]).
 */
export const HF_ROPE_LAYOUT = 'half' as const;

/**
 * Undoes transformers' per-head row permutation of q_proj/k_proj (spec §4.9), for callers that want
 * Meta's layout and interleaved RoPE: `meta_row[2i + h] = hf_row[h·d/2 + i]` within each head, d =
 * rows / heads. `data` is a row-major [rows, cols] matrix with `elementBytes` bytes per value.
 */
export function unpermuteHFRows(
  data: Uint8Array,
  rows: number,
  cols: number,
  heads: number,
  elementBytes: number,
): Uint8Array {
  for (const [label, value] of [
    ['rows', rows],
    ['cols', cols],
    ['heads', heads],
    ['elementBytes', elementBytes],
  ] as const) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new ModelError(`unpermuteHFRows: ${label} must be a positive integer, got ${value}`);
    }
  }
  const headDim = rows / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new ModelError(`unpermuteHFRows: rows (${rows}) must be heads (${heads}) × an even head dimension`);
  }
  const rowBytes = cols * elementBytes;
  if (data.byteLength !== rows * rowBytes) {
    throw new ModelError(
      `unpermuteHFRows: expected ${rows}×${cols}×${elementBytes} = ${rows * rowBytes} bytes, got ${data.byteLength}`,
    );
  }
  const half = headDim / 2;
  const out = new Uint8Array(data.byteLength);
  for (let head = 0; head < heads; head++) {
    const base = head * headDim;
    for (let i = 0; i < half; i++) {
      for (let h = 0; h < 2; h++) {
        const hfRow = base + h * half + i;
        const metaRow = base + 2 * i + h;
        out.set(data.subarray(hfRow * rowBytes, (hfRow + 1) * rowBytes), metaRow * rowBytes);
      }
    }
  }
  return out;
}

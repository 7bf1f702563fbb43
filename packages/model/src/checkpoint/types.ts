/**
 * What every checkpoint reader produces: a list of tensors, each read on demand, so a loader can
 * stream a checkpoint to the device one tensor at a time (peak memory: one tensor, not the model).
 */

/** Element types found in checkpoints. bf16 is widened (or narrowed to f16) when uploaded. */
export type CheckpointDType = 'f32' | 'f16' | 'bf16';

/**
 * Block-quantised types a checkpoint may hold (GGUF): llama.cpp's block formats, which are the
 * kernels' block dtypes. `read()` returns them in the kernels' storage layout (see @llama-ts/kernels'
 * quant/layout.ts), so they upload without being dequantised.
 */
export type QuantizedDType = 'q8_0' | 'q4_0' | 'q4_1' | 'q4_k' | 'q5_k' | 'q6_k';

/** What a checkpoint tensor may be. */
export type TensorDType = CheckpointDType | QuantizedDType;

/** A checkpoint's tensor; `D` is what its dtype may be (Meta and Hugging Face files: floats only). */
export interface CheckpointTensor<D extends TensorDType = CheckpointDType> {
  /** Meta's name (`layers.0.attention.wq.weight`); readers of other formats map their names to it. */
  name: string;
  shape: number[];
  dtype: D;
  /** Bytes `read()` returns: shape's element count times the dtype's size (a block type: its kernels layout's size). */
  byteLength: number;
  /** The file (or files, for a merged shard) it comes from, for error messages. */
  source: string;
  /** The raw little-endian values, row-major. Throws ModelError naming the file on truncation. */
  read(): Promise<Uint8Array>;
  /**
   * The tensor (by name) whose bytes these are: a tied output projection is the embedding. A loader
   * that stores both alike keeps one copy.
   */
  sameBytesAs?: string;
}

export interface CheckpointReader<D extends TensorDType = CheckpointDType> {
  tensors: CheckpointTensor<D>[];
  /** Releases open files. */
  close(): Promise<void>;
}

export function dtypeBytes(dtype: CheckpointDType): number {
  return dtype === 'f32' ? 4 : 2;
}

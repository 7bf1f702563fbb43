import type { WeightDType } from '@llama-ts/kernels';
import type { TensorDType } from './checkpoint/types.js';

/**
 * How matrices are stored on the device. 'auto' keeps f32, f16 and a GGUF's block formats (q8_0)
 * as they are and stores bf16 as f16 (exact for every value in f16's normal range; half the memory of f32). The block formats
 * (q8_0; q4_0, q4_1, q4_k, q5_k, q6_k, quantised on load by ggml's reference quantisers) need rows
 * whose length is a multiple of their block (32; 256 for the k-quants). Norm weights are always f32.
 */
export type WeightStorage = 'auto' | WeightDType;

/**
 * The dtype a tensor is stored as on the device, given its dtype in the checkpoint; before the
 * checkpoint is opened (`checkpointDType` undefined), 'auto' counts f16, the least it stores.
 */
export function storedDType(
  name: string,
  checkpointDType: TensorDType | undefined,
  storage: WeightStorage,
): WeightDType {
  if (name.endsWith('norm.weight')) return 'f32';
  if (storage !== 'auto') return storage;
  if (checkpointDType === undefined || checkpointDType === 'f16' || checkpointDType === 'bf16') return 'f16';
  return checkpointDType;
}

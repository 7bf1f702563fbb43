/**
 * Writes a state dict the way `torch.save(state_dict, path)` does, so that PyTorch (and Meta's
 * `llama` code) loads what we save and our reader sees the same layout as a real checkpoint:
 * a zip archive (torch-zip-writer.ts) holding a protocol-2 pickle (pickle-writer.ts) and one
 * storage entry per tensor.
 */

import { ModelError } from '../errors.js';
import { pickleStateDict } from './pickle-writer.js';
import { writePthArchive } from './torch-zip-writer.js';
import { type CheckpointDType, dtypeBytes } from './types.js';

export interface PthTensorToWrite {
  name: string;
  shape: number[];
  dtype: CheckpointDType;
  /** Little-endian values, row-major: shape's element count times the dtype's size. */
  data: Uint8Array;
}

/** Writes `tensors` (in this order) as `torch.save(OrderedDict(...), path)` would. */
export async function writePthCheckpoint(path: string, tensors: PthTensorToWrite[]): Promise<void> {
  const seen = new Set<string>();
  for (const tensor of tensors) {
    if (seen.has(tensor.name)) throw new ModelError(`${path}: tensor ${tensor.name} is given twice`);
    seen.add(tensor.name);
    const numel = tensor.shape.reduce((product, size) => product * size, 1);
    if (!tensor.shape.every((size) => Number.isSafeInteger(size) && size >= 0)) {
      throw new ModelError(
        `${path}: tensor ${tensor.name} has shape [${tensor.shape.join(', ')}], expected sizes >= 0`,
      );
    }
    const expected = numel * dtypeBytes(tensor.dtype);
    if (tensor.data.byteLength !== expected) {
      throw new ModelError(
        `${path}: tensor ${tensor.name} has ${tensor.data.byteLength} bytes of data, expected ${expected} ` +
          `(shape [${tensor.shape.join(', ')}], ${tensor.dtype})`,
      );
    }
  }
  // torch numbers storages in the order it meets them: one storage per tensor here.
  const refs = tensors.map((tensor, index) => ({ ...tensor, storageKey: String(index) }));
  const storages = refs.map((ref) => ({ key: ref.storageKey, data: ref.data }));
  await writePthArchive(path, pickleStateDict(refs), storages);
}

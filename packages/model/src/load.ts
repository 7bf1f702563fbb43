import { type Backend, type BackendChoice, createBackend } from '@llama-ts/kernels';
import type { CheckpointOptions } from './args.js';
import { openCheckpoint } from './checkpoint/folder/open.js';
import type { GGUFMetadata } from './checkpoint/gguf/metadata.js';
import { checkModelFits } from './footprint.js';
import { Transformer } from './transformer.js';
import type { WeightStorage } from './weight-storage.js';
import { type LoadProgress, loadWeights } from './weights.js';

export interface LoadModelOptions extends CheckpointOptions {
  /**
   * A backend to load onto, or which kind to create ('auto', the default: WebGPU on a hardware GPU,
   * else the wasm backend). A backend created here is destroyed with the model.
   */
  backend?: Backend | BackendChoice;
  /** How matrices are stored on the device (default 'auto': f32 stays f32, f16 and bf16 become f16). */
  weightStorage?: WeightStorage;
  /** Called after each tensor is uploaded, with bytes done and total. */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * For a GGUF file: its metadata, once its header is read and before any tensor is, so that the
   * caller takes the tokenizer and chat template from the same reading of the header. What it
   * throws stops the load.
   */
  onGGUFMetadata?: (metadata: GGUFMetadata) => void | Promise<void>;
}

/**
 * Loads a checkpoint (a Meta or Hugging Face folder, or a GGUF file) onto a backend, streaming
 * tensor by tensor, and returns the model. A model too big for the backend (the wasm backend's 4 GiB)
 * is refused before any weight is read: on a given backend as soon as the parameters are known
 * (for a folder, before the checkpoint's files are opened).
 */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<Transformer> {
  const given = options.backend;
  const storage = options.weightStorage ?? 'auto';
  const { args, reader, source, ggufMetadata } = await openCheckpoint(path, options, (args, source, dtypeOf) => {
    if (typeof given === 'object') {
      checkModelFits(args, storage, given, { source, ...(dtypeOf ? { checkpointDType: dtypeOf } : {}) });
    }
  });
  let backend: Backend;
  try {
    if (ggufMetadata && options.onGGUFMetadata) await options.onGGUFMetadata(ggufMetadata);
    backend = typeof given === 'object' ? given : await createBackend({ kind: given ?? 'auto' });
  } catch (error) {
    await reader.close();
    throw error;
  }
  try {
    // loadWeights checks the fit again with the checkpoint's dtypes before allocating anything.
    const weights = await loadWeights(reader, args, backend, {
      source,
      storage,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return new Transformer(args, weights, backend, { ownsBackend: typeof given !== 'object' });
  } catch (error) {
    if (typeof given !== 'object') backend.destroy();
    throw error;
  } finally {
    await reader.close();
  }
}

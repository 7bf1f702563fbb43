import { type Backend, type BackendChoice, createBackend } from '@llama-ts/kernels';
import type { RuntimeSizes } from './args.js';
import { openCheckpoint } from './checkpoint/folder/open.js';
import { Transformer } from './transformer.js';
import { type LoadProgress, loadWeights, type WeightStorage } from './weights.js';

export interface LoadModelOptions extends RuntimeSizes {
  /**
   * A backend to load onto, or which kind to create ('auto', the default: WebGPU when an adapter
   * exists, else CPU). A backend created here is destroyed with the model.
   */
  backend?: Backend | BackendChoice;
  /** How matrices are stored on the device (default 'auto': f32 stays f32, f16 and bf16 become f16). */
  weightStorage?: WeightStorage;
  /** Called after each tensor is uploaded, with bytes done and total. */
  onProgress?: (progress: LoadProgress) => void;
}

/** Loads a checkpoint folder onto a backend, streaming tensor by tensor, and returns the model. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<Transformer> {
  const { args, reader, source } = await openCheckpoint(dir, options);
  const given = options.backend;
  const backend = typeof given === 'object' ? given : await createBackend({ kind: given ?? 'auto' });
  try {
    const weights = await loadWeights(reader, args, backend, {
      source,
      ...(options.weightStorage ? { storage: options.weightStorage } : {}),
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

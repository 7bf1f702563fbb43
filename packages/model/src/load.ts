import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Backend, type BackendChoice, createBackend } from '@llama-ts/kernels';
import { argsFromHF, argsFromMetaParams, type ModelArgs, type RuntimeSizes } from './args.js';
import { readHFConfig } from './checkpoint/hf-config.js';
import { openPthCheckpoint } from './checkpoint/pth.js';
import { HF_ROPE_LAYOUT, openSafetensorsCheckpoint } from './checkpoint/safetensors.js';
import type { CheckpointReader } from './checkpoint/types.js';
import { ModelError } from './errors.js';
import { Transformer } from './transformer.js';
import { type LoadProgress, loadWeights, type WeightStorage } from './weights.js';

export type CheckpointFormat = 'meta' | 'huggingface';

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

export interface OpenedCheckpoint {
  format: CheckpointFormat;
  args: ModelArgs;
  reader: CheckpointReader;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/**
 * Reads a checkpoint folder's parameters and opens its tensors without loading them: Meta's
 * (`params.json` + `consolidated.NN.pth`) or Hugging Face's (`config.json` + safetensors).
 */
export async function openCheckpoint(dir: string, sizes: RuntimeSizes = {}): Promise<OpenedCheckpoint> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw new ModelError(`checkpoint folder ${dir} does not exist or is not a folder`);
  const paramsPath = join(dir, 'params.json');
  if (await isFile(paramsPath)) {
    let params: unknown;
    try {
      params = JSON.parse(await readFile(paramsPath, 'utf8'));
    } catch (error) {
      throw new ModelError(`${paramsPath}: not valid JSON (${(error as Error).message})`);
    }
    const args = argsFromMetaParams(params, sizes, paramsPath);
    const shards = (await readdir(dir)).filter((name) => name.endsWith('.pth')).sort();
    if (shards.length === 0) throw new ModelError(`${dir} has params.json but no consolidated.NN.pth checkpoint`);
    return { format: 'meta', args, reader: await openPthCheckpoint(shards.map((name) => join(dir, name))) };
  }
  if (await isFile(join(dir, 'config.json'))) {
    const config = await readHFConfig(dir);
    const args = argsFromHF(config, sizes, join(dir, 'config.json'));
    if (args.ropeLayout !== HF_ROPE_LAYOUT) throw new ModelError('internal: Hugging Face RoPE layout mismatch');
    const reader = await openSafetensorsCheckpoint(dir, { tieWordEmbeddings: config.tie_word_embeddings === true });
    return { format: 'huggingface', args, reader };
  }
  throw new ModelError(
    `${dir} holds neither params.json (a Meta checkpoint) nor config.json (a Hugging Face checkpoint)`,
  );
}

/** Loads a checkpoint folder onto a backend, streaming tensor by tensor, and returns the model. */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<Transformer> {
  const { args, reader } = await openCheckpoint(dir, options);
  const given = options.backend;
  const backend = typeof given === 'object' ? given : await createBackend({ kind: given ?? 'auto' });
  try {
    const weights = await loadWeights(reader, args, backend, {
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

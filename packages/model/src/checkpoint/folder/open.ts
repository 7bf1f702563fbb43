import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { argsFromHF, argsFromMetaParams, type ModelArgs, type RuntimeSizes } from '../../args.js';
import { ModelError } from '../../errors.js';
import { isGGUFFile, openGGUFCheckpoint } from '../gguf/checkpoint.js';
import { readHFConfig } from '../hf-config.js';
import { HF_ROPE_LAYOUT } from '../hf-rows.js';
import { openPthCheckpoint } from '../pth.js';
import { openSafetensorsCheckpoint } from '../safetensors.js';
import type { CheckpointReader, TensorDType } from '../types.js';
import { findMetaShards, HF_CONFIG_FILE, isFile, isFolder, META_PARAMS_FILE } from './layout.js';

export type CheckpointFormat = 'meta' | 'huggingface' | 'gguf';

export interface OpenedCheckpoint {
  format: CheckpointFormat;
  args: ModelArgs;
  /** GGUF tensors may be quantised (q8_0); Meta and Hugging Face ones are floats. */
  reader: CheckpointReader<TensorDType>;
}

/** A Meta folder's `params.json`, parsed but not checked (see argsFromMetaParams), and its path. */
export async function readMetaParams(dir: string): Promise<{ path: string; params: unknown }> {
  const path = join(dir, META_PARAMS_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelError(`${path}: cannot read (${code === 'ENOENT' ? 'no such file' : (error as Error).message})`);
  }
  try {
    return { path, params: JSON.parse(text) };
  } catch (error) {
    throw new ModelError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/**
 * Reads a checkpoint's parameters and opens its tensors without loading them: a folder of Meta's
 * (`params.json` + `consolidated.NN.pth`) or Hugging Face's (`config.json` + safetensors), or a
 * GGUF file. `beforeOpening` sees the parameters before any tensor is read (for folders, before
 * any checkpoint file is looked for or opened; for a GGUF file, with each tensor's dtype from its
 * header): loadModel refuses there a model too big for its backend.
 */
export async function openCheckpoint(
  dir: string,
  sizes: RuntimeSizes = {},
  beforeOpening?: (args: ModelArgs, dtypeOf?: (name: string) => TensorDType | undefined) => void,
): Promise<OpenedCheckpoint> {
  if (await isFile(dir)) {
    if (!(await isGGUFFile(dir))) {
      throw new ModelError(`${dir} is a file but not a GGUF file; expected a .gguf file or a checkpoint folder`);
    }
    const { args, reader } = await openGGUFCheckpoint(dir, sizes, beforeOpening);
    return { format: 'gguf', args, reader };
  }
  if (!(await isFolder(dir))) {
    throw new ModelError(`checkpoint folder ${dir} does not exist or is not a folder (nor a .gguf file)`);
  }
  if (await isFile(join(dir, META_PARAMS_FILE))) {
    const { path, params } = await readMetaParams(dir);
    const args = argsFromMetaParams(params, sizes, path);
    beforeOpening?.(args);
    const shards = await findMetaShards(dir);
    if (shards.length === 0) {
      throw new ModelError(`${dir} has ${META_PARAMS_FILE} but no consolidated.NN.pth checkpoint`);
    }
    return { format: 'meta', args, reader: await openPthCheckpoint(shards) };
  }
  if (await isFile(join(dir, HF_CONFIG_FILE))) {
    const config = await readHFConfig(dir);
    const args = argsFromHF(config, sizes, join(dir, HF_CONFIG_FILE));
    if (args.ropeLayout !== HF_ROPE_LAYOUT) throw new ModelError('internal: Hugging Face RoPE layout mismatch');
    beforeOpening?.(args);
    const reader = await openSafetensorsCheckpoint(dir, { tieWordEmbeddings: config.tie_word_embeddings === true });
    return { format: 'huggingface', args, reader };
  }
  throw new ModelError(
    `${dir} holds neither ${META_PARAMS_FILE} (a Meta checkpoint) nor ${HF_CONFIG_FILE} (a Hugging Face checkpoint)`,
  );
}

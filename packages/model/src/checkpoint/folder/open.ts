import { join } from 'node:path';
import { argsFromHF, argsFromMetaParams, type CheckpointOptions, type ModelArgs } from '../../args.js';
import { ModelError } from '../../errors.js';
import { isGGUFFile, openGGUFCheckpoint } from '../gguf/checkpoint.js';
import type { GGUFMetadata } from '../gguf/metadata.js';
import { readHFConfig } from '../hf-config.js';
import { HF_ROPE_LAYOUT } from '../hf-rows.js';
import { openPthCheckpoint } from '../pth.js';
import { readRegularText } from '../regular-file.js';
import { openSafetensorsCheckpoint } from '../safetensors.js';
import type { CheckpointReader, TensorDType } from '../types.js';
import { exists, findMetaShards, HF_CONFIG_FILE, isFolder, isRegularFile, META_PARAMS_FILE } from './layout.js';

export type CheckpointFormat = 'meta' | 'huggingface' | 'gguf';

export interface OpenedCheckpoint {
  format: CheckpointFormat;
  args: ModelArgs;
  /** GGUF tensors may be quantised (q8_0); Meta and Hugging Face ones are floats. */
  reader: CheckpointReader<TensorDType>;
  /** The file the args come from (`params.json`, `config.json` or the GGUF file), for messages. */
  source: string;
  /** A GGUF file's metadata (its tokenizer and chat template are there), read with its header. */
  ggufMetadata?: GGUFMetadata;
}

/** A Meta folder's `params.json`, parsed but not checked (see argsFromMetaParams), and its path. */
export async function readMetaParams(dir: string): Promise<{ path: string; params: unknown }> {
  const path = join(dir, META_PARAMS_FILE);
  const text = await readRegularText(path, 'Meta parameters file');
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
 * header): loadModel refuses there a model too big for its backend. `source` is the file the
 * parameters come from.
 */
export async function openCheckpoint(
  dir: string,
  sizes: CheckpointOptions = {},
  beforeOpening?: (args: ModelArgs, source: string, dtypeOf?: (name: string) => TensorDType | undefined) => void,
): Promise<OpenedCheckpoint> {
  if ((await exists(dir)) && !(await isFolder(dir))) {
    // Not a folder: a GGUF file. A FIFO or device is refused naming it when opened (openRegularFile).
    if ((await isRegularFile(dir)) && !(await isGGUFFile(dir))) {
      throw new ModelError(`${dir} is a file but not a GGUF file; expected a .gguf file or a checkpoint folder`);
    }
    const { args, reader, metadata } = await openGGUFCheckpoint(dir, sizes, (args, dtypeOf) =>
      beforeOpening?.(args, dir, dtypeOf),
    );
    return { format: 'gguf', args, reader, source: dir, ggufMetadata: metadata };
  }
  if (!(await isFolder(dir))) {
    throw new ModelError(`checkpoint folder ${dir} does not exist or is not a folder (nor a .gguf file)`);
  }
  if (await exists(join(dir, META_PARAMS_FILE))) {
    const { path, params } = await readMetaParams(dir);
    const args = argsFromMetaParams(params, sizes, path);
    beforeOpening?.(args, path);
    const shards = await findMetaShards(dir);
    if (shards.length === 0) {
      throw new ModelError(`${dir} has ${META_PARAMS_FILE} but no consolidated.NN.pth checkpoint`);
    }
    return { format: 'meta', args, reader: await openPthCheckpoint(shards), source: path };
  }
  if (await exists(join(dir, HF_CONFIG_FILE))) {
    const config = await readHFConfig(dir);
    const source = join(dir, HF_CONFIG_FILE);
    const args = argsFromHF(config, sizes, source);
    if (args.ropeLayout !== HF_ROPE_LAYOUT) throw new ModelError('internal: Hugging Face RoPE layout mismatch');
    beforeOpening?.(args, source);
    const reader = await openSafetensorsCheckpoint(dir, { tieWordEmbeddings: config.tie_word_embeddings === true });
    return { format: 'huggingface', args, reader, source };
  }
  throw new ModelError(
    `${dir} holds neither ${META_PARAMS_FILE} (a Meta checkpoint) nor ${HF_CONFIG_FILE} (a Hugging Face checkpoint)`,
  );
}

import { join } from 'node:path';
import { argsFromHF, argsFromMetaParams, type CheckpointOptions, type ModelArgs } from '../../args.js';
import { ModelError } from '../../errors.js';
import { readHFConfig } from '../hf-config.js';
import { HF_ROPE_LAYOUT } from '../hf-rows.js';
import { openPthCheckpoint } from '../pth.js';
import { readRegularText } from '../regular-file.js';
import { openSafetensorsCheckpoint } from '../safetensors.js';
import type { CheckpointReader } from '../types.js';
import { exists, findMetaShards, HF_CONFIG_FILE, isFolder, META_PARAMS_FILE } from './layout.js';

export type CheckpointFormat = 'meta' | 'huggingface';

export interface OpenedCheckpoint {
  format: CheckpointFormat;
  args: ModelArgs;
  reader: CheckpointReader;
  /** The file the args come from (`params.json` or `config.json`), for messages. */
  source: string;
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
 * Reads a checkpoint folder's parameters and opens its tensors without loading them: Meta's
 * (`params.json` + `consolidated.NN.pth`) or Hugging Face's (`config.json` + safetensors).
 * `beforeOpening` sees the parameters (and their file) before any checkpoint file is looked for or
 * opened (loadModel refuses there a model too big for its backend).
 */
export async function openCheckpoint(
  dir: string,
  sizes: CheckpointOptions = {},
  beforeOpening?: (args: ModelArgs, source: string) => void,
): Promise<OpenedCheckpoint> {
  if (!(await isFolder(dir))) throw new ModelError(`checkpoint folder ${dir} does not exist or is not a folder`);
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

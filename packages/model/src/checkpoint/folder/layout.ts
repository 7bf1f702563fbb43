/**
 * The names of the files in a checkpoint folder, and finding them: the one place that knows the
 * layout. A Meta folder holds `params.json` and `consolidated.NN.pth` shards; a Hugging Face folder
 * holds `config.json` and `model.safetensors` (or shards listed in `model.safetensors.index.json`).
 * Either may hold a tokenizer beside the weights: Llama 3's `tokenizer.model` or a character
 * tokenizer's `tokenizer.json`.
 */

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const META_PARAMS_FILE = 'params.json';
export const HF_CONFIG_FILE = 'config.json';
export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';
export const LLAMA3_TOKENIZER_FILE = 'tokenizer.model';
export const CHAR_TOKENIZER_FILE = 'tokenizer.json';
/** The tokenizer files a folder may hold, in the order they are looked for. */
export const TOKENIZER_FILES = [LLAMA3_TOKENIZER_FILE, CHAR_TOKENIZER_FILE] as const;

/** `consolidated.00.pth`, `consolidated.01.pth`, ...: the file of model-parallel shard `rank`. */
export function metaShardFile(rank: number): string {
  return `consolidated.${String(rank).padStart(2, '0')}.pth`;
}

/**
 * Whether anything is at `path`. A folder's files are found by name whatever they are, so that a
 * `params.json` that is a directory or a FIFO is then refused naming it (see openRegularFile) rather
 * than passed over as absent.
 */
export async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

export async function isRegularFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

export async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** A Meta folder's shards in rank order: every `*.pth` file, as Meta's `sorted(glob('*.pth'))`. */
export async function findMetaShards(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((name) => name.endsWith('.pth'))
    .sort()
    .map((name) => join(dir, name));
}

/** The tokenizer file in `dir` (`tokenizer.model`, else `tokenizer.json`), or undefined when it has none. */
export async function findTokenizerFile(dir: string): Promise<string | undefined> {
  for (const name of TOKENIZER_FILES) {
    const path = join(dir, name);
    if (await exists(path)) return path;
  }
  return undefined;
}

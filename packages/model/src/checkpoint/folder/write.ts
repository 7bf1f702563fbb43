import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type PthTensorToWrite, writePthCheckpoint } from '../pth-writer.js';
import { CHAR_TOKENIZER_FILE, META_PARAMS_FILE, metaShardFile } from './layout.js';

/** Meta's params.json as we write it, plus `max_seq_len`: the context the model was trained with. */
export interface MetaParams {
  dim: number;
  n_layers: number;
  n_heads: number;
  n_kv_heads: number;
  vocab_size: number;
  multiple_of: number;
  ffn_dim_multiplier?: number | null;
  norm_eps: number;
  rope_theta: number;
  max_seq_len: number;
}

export interface MetaCheckpointToWrite {
  params: MetaParams;
  /** The weights, in state-dict order, written as the single shard `consolidated.00.pth`. */
  tensors: PthTensorToWrite[];
  /** A character tokenizer's JSON (`CharTokenizer.toJSON()`), written as `tokenizer.json`. */
  charTokenizer?: unknown;
}

/** Writes `text` beside `path` and renames it into place, so `path` is never half written. */
async function writeFileAtomic(path: string, text: string): Promise<void> {
  const partial = `${path}.partial-${process.pid}`;
  try {
    await writeFile(partial, text);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** params.json as written: Meta's field order; ffn_dim_multiplier only when set. */
function paramsJson(params: MetaParams): string {
  const { ffn_dim_multiplier, ...rest } = params;
  const ordered = {
    dim: rest.dim,
    n_layers: rest.n_layers,
    n_heads: rest.n_heads,
    n_kv_heads: rest.n_kv_heads,
    vocab_size: rest.vocab_size,
    multiple_of: rest.multiple_of,
    ...(ffn_dim_multiplier === undefined || ffn_dim_multiplier === null ? {} : { ffn_dim_multiplier }),
    norm_eps: rest.norm_eps,
    rope_theta: rest.rope_theta,
    max_seq_len: rest.max_seq_len,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/**
 * Writes a Meta checkpoint folder (created if needed): `consolidated.00.pth`, then `tokenizer.json`
 * when given, then `params.json` last, so a folder with params.json is a complete checkpoint.
 * Nothing is checked here beyond what writePthCheckpoint checks; the caller knows its model.
 */
export async function writeMetaCheckpoint(dir: string, contents: MetaCheckpointToWrite): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writePthCheckpoint(join(dir, metaShardFile(0)), contents.tensors);
  if (contents.charTokenizer !== undefined) {
    await writeFileAtomic(join(dir, CHAR_TOKENIZER_FILE), `${JSON.stringify(contents.charTokenizer)}\n`);
  }
  await writeFileAtomic(join(dir, META_PARAMS_FILE), paramsJson(contents.params));
}

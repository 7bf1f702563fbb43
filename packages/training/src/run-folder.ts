/**
 * What a training run writes into its output folder: a Meta checkpoint (whose files
 * @llama-ts/model names), the loss log beside it, and in `resume/` what `resume` needs:
 * `optimizer.pth` (Adam's m and v per parameter) and `training-state.json` (step, RNG states, loss
 * log). The resume files live in a subfolder because a Meta checkpoint folder's every `*.pth` is
 * read as a model shard.
 */

import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CHAR_TOKENIZER_FILE, HF_CONFIG_FILE, META_PARAMS_FILE, metaShardFile } from '@llama-ts/model';

export const RESUME_DIR = 'resume';
export const LOSS_CSV_FILE = 'loss.csv';
export const LOSS_SVG_FILE = 'loss.svg';
/** Held while a training writes into the folder (see run-lock.ts). */
export const LOCK_FILE = 'train.lock';

export const paramsPath = (dir: string): string => join(dir, META_PARAMS_FILE);
/** The single shard a trained checkpoint's f32 weights are written to. */
export const weightsPath = (dir: string): string => join(dir, metaShardFile(0));
export const charTokenizerPath = (dir: string): string => join(dir, CHAR_TOKENIZER_FILE);
export const optimizerStatePath = (dir: string): string => join(dir, RESUME_DIR, 'optimizer.pth');
export const trainingStatePath = (dir: string): string => join(dir, RESUME_DIR, 'training-state.json');

export type OutputDirState =
  | { kind: 'empty' }
  | { kind: 'own-run' }
  | { kind: 'hugging-face'; entry: string }
  | { kind: 'other'; entries: string };

/**
 * What an output folder holds: nothing (or nothing but the lock), a run of train() (it has
 * `resume/training-state.json`, written with every checkpoint), a Hugging Face checkpoint
 * (`config.json` or `*.safetensors`), or other files (named, a few).
 */
export async function inspectOutputDir(dir: string): Promise<OutputDirState> {
  const entries = (await readdir(dir).catch(() => [] as string[])).filter((name) => name !== LOCK_FILE);
  const huggingFace = entries.find((name) => name === HF_CONFIG_FILE || name.endsWith('.safetensors'));
  if (huggingFace) return { kind: 'hugging-face', entry: huggingFace };
  if (entries.length === 0) return { kind: 'empty' };
  if (existsSync(trainingStatePath(dir))) return { kind: 'own-run' };
  return { kind: 'other', entries: entries.slice(0, 4).join(', ') + (entries.length > 4 ? ', ...' : '') };
}

/** Every file a run writes into its output folder (never anything else there). */
export function runFiles(dir: string): string[] {
  return [
    paramsPath(dir),
    weightsPath(dir),
    charTokenizerPath(dir),
    optimizerStatePath(dir),
    trainingStatePath(dir),
    join(dir, LOSS_CSV_FILE),
    join(dir, LOSS_SVG_FILE),
  ];
}

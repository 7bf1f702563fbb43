/**
 * What a training run writes into its output folder: a Meta checkpoint (whose files
 * @llama-ts/model names), the loss log beside it, and in `resume/` what `resume` needs:
 * `optimizer.pth` (Adam's m and v per parameter) and `training-state.json` (step, RNG states, loss
 * log). The resume files live in a subfolder because a Meta checkpoint folder's every `*.pth` is
 * read as a model shard.
 */

import { join } from 'node:path';
import { CHAR_TOKENIZER_FILE, META_PARAMS_FILE, metaShardFile } from '@llama-ts/model';

export const RESUME_DIR = 'resume';
export const LOSS_CSV_FILE = 'loss.csv';
export const LOSS_SVG_FILE = 'loss.svg';

export const paramsPath = (dir: string): string => join(dir, META_PARAMS_FILE);
/** The single shard a trained checkpoint's f32 weights are written to. */
export const weightsPath = (dir: string): string => join(dir, metaShardFile(0));
export const charTokenizerPath = (dir: string): string => join(dir, CHAR_TOKENIZER_FILE);
export const optimizerStatePath = (dir: string): string => join(dir, RESUME_DIR, 'optimizer.pth');
export const trainingStatePath = (dir: string): string => join(dir, RESUME_DIR, 'training-state.json');

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

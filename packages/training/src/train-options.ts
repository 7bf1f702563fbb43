/** What `train` takes and reports, and the checks its options get before a run starts. */

import type { Backend } from '@llama-ts/kernels';
import { CharTokenizer } from '@llama-ts/tokenizer/node';
import { prepareCorpus, splitTokens, type TrainingCorpus } from './data.js';
import { TrainingError } from './errors.js';
import type { LossLog } from './metrics.js';
import type { TrainingPreset } from './presets.js';
import type { PresetOverrides } from './resolve-preset.js';
import { show } from './run-config.js';

/** The corpus as text (a CharTokenizer is built over it), or already encoded with its tokenizer. */
export type TrainingData = string | { tokens: ArrayLike<number>; tokenizer: CharTokenizer };

export interface TrainStartInfo {
  /** The preset as run: overrides applied, checked. */
  preset: TrainingPreset;
  parameters: number;
  vocabSize: number;
  trainTokens: number;
  valTokens: number;
  /** Updates already done (0 unless resuming). */
  startStep: number;
  steps: number;
  resumed: boolean;
}

export interface TrainStepInfo {
  /** Updates done, 1..steps. */
  step: number;
  steps: number;
  /** The training batch's loss, before this update. */
  loss: number;
  /** The learning rate of this update. */
  lr: number;
  /** Training throughput of this call so far (evaluation and checkpoints not counted). */
  tokensPerSecond: number;
  /** The global gradient norm before clipping; only computed when the preset clips. */
  gradNorm?: number;
}

export interface TrainEvalInfo {
  /** Updates done when evaluated (0 = the initial model). */
  step: number;
  steps: number;
  /** Mean loss over `evalBatches` batches of each split. */
  trainLoss: number;
  valLoss: number;
  lr: number;
  /** Training throughput since the previous evaluation (0 at the first one). */
  tokensPerSecond: number;
}

export interface TrainOptions {
  backend: Backend;
  /** A preset or its name ('default', 'seed003'). */
  preset: TrainingPreset | string;
  /** Fields replacing the preset's; see `resolvePreset` (a new `steps` stretches a cosine schedule). */
  overrides?: PresetOverrides;
  data: TrainingData;
  /** The checkpoint folder: params.json, consolidated.00.pth, tokenizer.json, resume/, loss.csv, loss.svg. */
  outputDir: string;
  /** Replaces the preset's seed (init, batch order and evaluation batches all derive from it). */
  seed?: number;
  /** Continue the run whose checkpoint is in `outputDir`. */
  resume?: boolean;
  /** Start a new run even though `outputDir` holds a checkpoint (its files are replaced). */
  overwrite?: boolean;
  /**
   * Stops the run after the current step: a checkpoint is written there (so `resume` continues
   * from it) and the summary says `interrupted`.
   */
  signal?: AbortSignal;
  onStart?: (info: TrainStartInfo) => void | Promise<void>;
  onStep?: (info: TrainStepInfo) => void | Promise<void>;
  onEval?: (info: TrainEvalInfo) => void | Promise<void>;
  onCheckpoint?: (dir: string, step: number) => void | Promise<void>;
}

export interface TrainSummary {
  /** Updates done (less than the preset's steps when interrupted). */
  steps: number;
  /** The losses of the last evaluation. */
  finalTrainLoss: number;
  finalValLoss: number;
  /** Training throughput of this call (evaluation and checkpoints not counted). */
  tokensPerSecond: number;
  /** Wall-clock seconds of this call. */
  seconds: number;
  /** Wall-clock seconds of the whole run, earlier sessions included. */
  elapsedSeconds: number;
  tokensSeen: number;
  outputDir: string;
  interrupted: boolean;
  preset: TrainingPreset;
  lossLog: LossLog;
}

export function checkOptions(options: TrainOptions): void {
  if (typeof options !== 'object' || options === null) throw new TrainingError('train: expected an options object');
  const backend = options.backend as Partial<Backend> | undefined;
  if (typeof backend?.dispatch !== 'function') {
    throw new TrainingError('backend must be a Backend (createBackend from @llama-ts/kernels)');
  }
  if (typeof options.outputDir !== 'string' || options.outputDir === '') {
    throw new TrainingError(`outputDir must be a folder path, got ${show(options.outputDir)}`);
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new TrainingError(`seed must be an integer, got ${show(options.seed)}`);
  }
  if (options.resume && options.overwrite) throw new TrainingError('resume and overwrite exclude each other');
  for (const name of ['onStart', 'onStep', 'onEval', 'onCheckpoint'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TrainingError(`${name} must be a function`);
    }
  }
}

/** The corpus `data` gives, checked: text gets a CharTokenizer built over it. */
export function corpusOf(data: TrainingData): TrainingCorpus {
  if (typeof data === 'string') {
    if (data.length === 0) throw new TrainingError('data: the corpus text is empty');
    return prepareCorpus(data);
  }
  if (typeof data !== 'object' || data === null || !('tokens' in data)) {
    throw new TrainingError('data must be the corpus text or { tokens, tokenizer }');
  }
  const { tokenizer } = data;
  if (!(tokenizer instanceof CharTokenizer)) throw new TrainingError('data.tokenizer must be a CharTokenizer');
  const tokens = Int32Array.from(data.tokens);
  const bad = tokens.findIndex((id, i) => id !== data.tokens[i] || id < 0 || id >= tokenizer.vocabSize);
  if (bad >= 0) {
    throw new TrainingError(
      `data.tokens[${bad}] is ${data.tokens[bad]}, not a token id of the tokenizer (0..${tokenizer.vocabSize - 1})`,
    );
  }
  return { tokenizer, tokens, splits: splitTokens(tokens) };
}

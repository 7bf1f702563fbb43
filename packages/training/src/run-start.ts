/** Where a run starts: fresh weights and RNG streams, or exactly where a saved run stopped. */

import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { META_PARAMS_FILE } from '@llama-ts/model';
import type { CharTokenizer } from '@llama-ts/tokenizer';
import { readParameters, readParams } from './checkpoint.js';
import { TrainingError } from './errors.js';
import { initParameters, parameterSpecs } from './init.js';
import { LossLog } from './metrics.js';
import type { presetArgs, TrainingPreset } from './presets.js';
import { type OptimizerMoments, readTrainingState } from './resume-state.js';
import { TrainingRng } from './rng.js';
import {
  fingerprint,
  firstDifference,
  normalizedParams,
  RNG_ROLES,
  type RngRole,
  type RunConfig,
  type SavedConfig,
  show,
} from './run-config.js';
import {
  charTokenizerPath,
  inspectOutputDir,
  paramsPath,
  runFiles,
  trainingStatePath,
  weightsPath,
} from './run-folder.js';

export interface Start {
  values: Map<string, Float32Array>;
  rngs: Record<RngRole, TrainingRng>;
  step: number;
  lossLog: LossLog;
  tokensSeen: number;
  elapsedSeconds: number;
  moments?: OptimizerMoments;
}

export async function freshStart(
  dir: string,
  args: ReturnType<typeof presetArgs>,
  preset: TrainingPreset,
  overwrite: boolean,
): Promise<Start> {
  await checkFreshFolder(dir, overwrite);
  // Stale files of an earlier run must not outlive it: a crash before the first checkpoint would
  // otherwise leave its resume state beside this run's loss log.
  await Promise.all(runFiles(dir).map((path) => rm(path, { force: true })));
  // One root stream seeds the others, so one seed fixes the whole run and no two uses share a stream.
  const root = new TrainingRng(preset.seed);
  const initRng = new TrainingRng(root.nextUint32());
  const rngs = {
    train: new TrainingRng(root.nextUint32()),
    evalTrain: new TrainingRng(root.nextUint32()),
    evalVal: new TrainingRng(root.nextUint32()),
  };
  return {
    values: initParameters(args, { seed: initRng, scheme: preset.init }),
    rngs,
    step: 0,
    lossLog: new LossLog(),
    tokensSeen: 0,
    elapsedSeconds: 0,
  };
}

/**
 * A fresh run writes only into an empty folder or one holding a run of its own, and replaces that
 * run only with `overwrite`. Any other non-empty folder is someone's data (a `loss.csv`, a
 * `tokenizer.json` the run did not write) and needs `overwrite`; a Hugging Face checkpoint folder is
 * refused even then, since a `params.json` beside its `config.json` would make it load as the new model.
 */
async function checkFreshFolder(dir: string, overwrite: boolean): Promise<void> {
  const found = await inspectOutputDir(dir);
  if (found.kind === 'hugging-face') {
    throw new TrainingError(
      `outputDir ${dir} holds a Hugging Face checkpoint (${found.entry}); a run there would make it load as another model: choose another outputDir`,
    );
  }
  if (found.kind === 'empty' || overwrite) return;
  if (found.kind === 'own-run') {
    throw new TrainingError(
      `outputDir ${dir} already holds a checkpoint (${trainingStatePath(dir)}); resume to continue its run, overwrite to replace it, or choose another outputDir`,
    );
  }
  throw new TrainingError(
    `outputDir ${dir} is not empty (${found.entries}) and holds no run of train(); overwrite to write the run's files over it, or choose another outputDir`,
  );
}

/** The saved tokenizer's JSON, compared as it is (CharTokenizer.fromJSON would normalise it). */
async function readSavedTokenizer(dir: string): Promise<unknown> {
  const path = charTokenizerPath(dir);
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TrainingError(
      `resume: ${path} ${code === 'ENOENT' ? 'does not exist' : `is not readable JSON (${(error as Error).message})`}; it is not a complete checkpoint`,
    );
  }
}

export async function resumeStart(
  dir: string,
  run: RunConfig,
  tokenizer: CharTokenizer,
  args: ReturnType<typeof presetArgs>,
  steps: number,
): Promise<Start> {
  const statePath = trainingStatePath(dir);
  if (!existsSync(statePath)) {
    throw new TrainingError(
      `resume: ${dir} holds no training state to resume (${statePath} does not exist); train without resume to start a new run there`,
    );
  }
  if (!existsSync(paramsPath(dir))) {
    throw new TrainingError(
      `resume: ${dir} has training state but no ${META_PARAMS_FILE}; it is not a complete checkpoint`,
    );
  }
  const savedParams = normalizedParams(await readParams(dir));
  const modelDiff = firstDifference(savedParams, run.params);
  if (modelDiff) {
    throw new TrainingError(
      `resume: outputDir ${dir} holds a different model (${modelDiff.path} ${show(modelDiff.saved)} there, ${show(modelDiff.wanted)} with these options); resume with the preset and overrides it was trained with, or choose another outputDir`,
    );
  }
  const savedTokenizer = await readSavedTokenizer(dir);
  if (JSON.stringify(savedTokenizer) !== JSON.stringify(tokenizer.toJSON())) {
    throw new TrainingError(
      `resume: ${charTokenizerPath(dir)} is not the tokenizer of this data; resume with the data the run was trained on`,
    );
  }
  const { state, moments } = await readTrainingState(dir);
  const saved = state.config as Partial<SavedConfig> | undefined;
  if (!saved?.run || typeof saved.weights !== 'string') {
    throw new TrainingError(`resume: ${statePath} was not written by train() (it has no run configuration)`);
  }
  const diff = firstDifference(saved.run, run);
  if (diff) {
    const what = diff.path.startsWith('data.')
      ? 'was trained on different data'
      : `was trained with ${diff.path} ${show(diff.saved)}, not ${show(diff.wanted)}`;
    const hint =
      diff.path.startsWith('schedule.') && saved.steps !== steps
        ? ` (a cosine schedule is stretched to the run's steps: resume with steps ${saved.steps}, or give a schedule)`
        : '';
    throw new TrainingError(
      `resume: the run in ${dir} ${what}${hint}; resume with the same preset, overrides, seed and data, or choose another outputDir`,
    );
  }
  if (state.step >= steps) {
    throw new TrainingError(
      `resume: the run in ${dir} has already done ${state.step} steps; steps must be more than that to continue (got ${steps})`,
    );
  }
  const values = await readParameters(dir);
  if (fingerprint(parameterSpecs(args).map(({ name }) => values.get(name) as Float32Array)) !== saved.weights) {
    throw new TrainingError(
      `resume: the weights in ${weightsPath(dir)} are not the ones ${statePath} was saved with (a checkpoint write was interrupted?); start a new run`,
    );
  }
  const rngs = {} as Record<RngRole, TrainingRng>;
  for (const role of RNG_ROLES) {
    const rngState = state.rng[role];
    if (!rngState) throw new TrainingError(`resume: ${statePath} has no rng.${role}`);
    rngs[role] = TrainingRng.fromState(rngState);
  }
  return {
    values,
    rngs,
    step: state.step,
    lossLog: LossLog.fromJSON(state.lossLog).truncatedAfter(state.step),
    tokensSeen: state.tokensSeen,
    elapsedSeconds: state.elapsedSeconds,
    moments,
  };
}

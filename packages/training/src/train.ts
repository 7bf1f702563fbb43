/**
 * The training loop: Adam / AdamW updates with the preset's schedule and gradient clipping,
 * train and val loss on a few batches every `evalInterval` steps (loss.csv and loss.svg), Meta
 * checkpoints with resume state every `checkpointInterval` steps, and `resume` that continues a
 * run exactly as if it had not stopped.
 */

import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '@llama-ts/kernels';
import { CharTokenizer } from '@llama-ts/tokenizer';
import {
  type MetaParams,
  OPTIMIZER_FILE,
  type OptimizerMoments,
  PARAMS_FILE,
  RESUME_DIR,
  readParameters,
  readParams,
  readTrainingState,
  TOKENIZER_FILE,
  TRAINING_STATE_FILE,
  WEIGHTS_FILE,
  writeCheckpoint,
  writeTrainingState,
} from './checkpoint.js';
import {
  BatchSampler,
  batchStartCount,
  prepareCorpus,
  splitTokens,
  type TargetAlignment,
  type TrainingCorpus,
} from './data.js';
import { TrainingError } from './errors.js';
import { type InitScheme, initParameters, parameterCount, parameterSpecs } from './init.js';
import { LlamaTrainer } from './llama-train.js';
import { LossLog } from './metrics.js';
import { AdamW, clipScale, globalGradNorm } from './optimizer.js';
import { type OptimizerConfig, presetArgs, presetParams, type TrainingPreset } from './presets.js';
import { type PresetOverrides, resolvePreset } from './resolve-preset.js';
import { Rng, type RngState } from './rng.js';
import { type LrSchedule, learningRate } from './schedule.js';

export const LOSS_CSV_FILE = 'loss.csv';
export const LOSS_SVG_FILE = 'loss.svg';

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

/**
 * What must be the same for `resume` to continue a run: everything that shapes the updates.
 * (steps, evalInterval, evalBatches and checkpointInterval may change between sessions.)
 */
interface RunConfig {
  preset: string;
  params: MetaParams;
  batchSize: number;
  targets: TargetAlignment;
  optimizer: OptimizerConfig;
  schedule: LrSchedule;
  gradClip: number | null;
  init: InitScheme;
  seed: number;
  data: { tokens: number; fingerprint: string };
}

interface SavedConfig {
  run: RunConfig;
  /** Fingerprint of the weights the state was written with, to catch a half-written checkpoint. */
  weights: string;
  steps: number;
}

/** The RNG streams a run draws from, by the role they have in the saved state. */
const RNG_ROLES = ['train', 'evalTrain', 'evalVal'] as const;
type RngRole = (typeof RNG_ROLES)[number];

/** FNV-1a over 32-bit words: cheap, and enough to tell two corpora or two weight sets apart. */
function fingerprint(arrays: Iterable<Int32Array | Float32Array>): string {
  let hash = 0x811c9dc5;
  let length = 0;
  for (const array of arrays) {
    const words = new Uint32Array(array.buffer, array.byteOffset, array.length);
    for (let i = 0; i < words.length; i++) hash = Math.imul(hash ^ (words[i] as number), 0x01000193) >>> 0;
    length += words.length;
  }
  return `${hash.toString(16).padStart(8, '0')}:${length}`;
}

function loadData(data: TrainingData): TrainingCorpus {
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

function normalizedParams(params: MetaParams): MetaParams {
  return { ...params, ffn_dim_multiplier: params.ffn_dim_multiplier ?? null };
}

/** Dotted paths to leaf values, for naming the first field two configurations differ in. */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

function firstDifference(saved: unknown, wanted: unknown): { path: string; saved: unknown; wanted: unknown } | null {
  const a = flatten(saved, '', new Map());
  const b = flatten(wanted, '', new Map());
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(path) !== b.get(path)) return { path, saved: a.get(path), wanted: b.get(path) };
  }
  return null;
}

const show = (value: unknown): string => (value === undefined ? 'unset' : JSON.stringify(value));

interface Start {
  values: Map<string, Float32Array>;
  rngs: Record<RngRole, Rng>;
  step: number;
  lossLog: LossLog;
  tokensSeen: number;
  elapsedSeconds: number;
  moments?: OptimizerMoments;
}

/** The files a run writes into its output folder (never anything else there). */
function runFiles(dir: string): string[] {
  return [
    join(dir, PARAMS_FILE),
    join(dir, WEIGHTS_FILE),
    join(dir, TOKENIZER_FILE),
    join(dir, RESUME_DIR, OPTIMIZER_FILE),
    join(dir, RESUME_DIR, TRAINING_STATE_FILE),
    join(dir, LOSS_CSV_FILE),
    join(dir, LOSS_SVG_FILE),
  ];
}

async function freshStart(
  dir: string,
  args: ReturnType<typeof presetArgs>,
  preset: TrainingPreset,
  overwrite: boolean,
): Promise<Start> {
  const existing = [join(dir, PARAMS_FILE), join(dir, WEIGHTS_FILE), join(dir, RESUME_DIR, TRAINING_STATE_FILE)].find(
    (path) => existsSync(path),
  );
  if (existing && !overwrite) {
    throw new TrainingError(
      `outputDir ${dir} already holds a checkpoint (${existing}); resume to continue its run, overwrite to replace it, or choose another outputDir`,
    );
  }
  // Stale files of an earlier run must not outlive it: a crash before the first checkpoint would
  // otherwise leave its resume state beside this run's loss log.
  await Promise.all(runFiles(dir).map((path) => rm(path, { force: true })));
  // One root stream seeds the others, so one seed fixes the whole run and no two uses share a stream.
  const root = new Rng(preset.seed);
  const initRng = new Rng(root.nextUint32());
  const rngs = {
    train: new Rng(root.nextUint32()),
    evalTrain: new Rng(root.nextUint32()),
    evalVal: new Rng(root.nextUint32()),
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

async function resumeStart(
  dir: string,
  run: RunConfig,
  tokenizer: CharTokenizer,
  args: ReturnType<typeof presetArgs>,
  steps: number,
): Promise<Start> {
  const statePath = join(dir, RESUME_DIR, TRAINING_STATE_FILE);
  if (!existsSync(statePath)) {
    throw new TrainingError(
      `resume: ${dir} holds no training state to resume (${statePath} does not exist); train without resume to start a new run there`,
    );
  }
  if (!existsSync(join(dir, PARAMS_FILE))) {
    throw new TrainingError(`resume: ${dir} has training state but no ${PARAMS_FILE}; it is not a complete checkpoint`);
  }
  const savedParams = normalizedParams(await readParams(dir));
  const modelDiff = firstDifference(savedParams, run.params);
  if (modelDiff) {
    throw new TrainingError(
      `resume: outputDir ${dir} holds a different model (${modelDiff.path} ${show(modelDiff.saved)} there, ${show(modelDiff.wanted)} with these options); resume with the preset and overrides it was trained with, or choose another outputDir`,
    );
  }
  const savedTokenizer = JSON.parse(await readFile(join(dir, TOKENIZER_FILE), 'utf8')) as unknown;
  if (JSON.stringify(savedTokenizer) !== JSON.stringify(tokenizer.toJSON())) {
    throw new TrainingError(
      `resume: ${join(dir, TOKENIZER_FILE)} is not the tokenizer of this data; resume with the data the run was trained on`,
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
      `resume: the weights in ${join(dir, WEIGHTS_FILE)} are not the ones ${statePath} was saved with (a checkpoint write was interrupted?); start a new run`,
    );
  }
  const rngs = {} as Record<RngRole, Rng>;
  for (const role of RNG_ROLES) {
    const rngState = state.rng[role];
    if (!rngState) throw new TrainingError(`resume: ${statePath} has no rng.${role}`);
    rngs[role] = Rng.fromState(rngState);
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

function checkOptions(options: TrainOptions): void {
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

/** Lets timers and signal handlers run (Ctrl-C, a progress bar): CPU-backend reads resolve as microtasks. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Trains a Llama on `data` with `preset`, writing checkpoints, resume state and the loss log into
 * `outputDir`. Given a seed, the loss curve and weights are reproducible, and an interrupted run
 * continued with `resume` ends with the same ones as an uninterrupted run.
 */
export async function train(options: TrainOptions): Promise<TrainSummary> {
  const started = performance.now();
  checkOptions(options);
  const { backend, outputDir, signal } = options;
  const preset = resolvePreset(options.preset, {
    ...options.overrides,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const corpus = loadData(options.data);
  const { tokenizer } = corpus;
  const vocabSize = tokenizer.vocabSize;
  const { seqLen, batchSize, steps } = preset;
  for (const split of ['train', 'val'] as const) {
    const length = corpus.splits[split].length;
    if (batchStartCount(length, seqLen) < 1) {
      throw new TrainingError(
        `data: the ${split} split has ${length} tokens, too few for seqLen ${seqLen}; give more text or a shorter seqLen`,
      );
    }
  }
  const params = normalizedParams(presetParams(preset, vocabSize));
  const args = presetArgs(preset, vocabSize);
  const run: RunConfig = {
    preset: preset.name,
    params,
    batchSize,
    targets: preset.targets,
    optimizer: preset.optimizer,
    schedule: preset.schedule,
    gradClip: preset.gradClip,
    init: preset.init,
    seed: preset.seed,
    data: { tokens: corpus.tokens.length, fingerprint: fingerprint([corpus.tokens]) },
  };
  const start = options.resume
    ? await resumeStart(outputDir, run, tokenizer, args, steps)
    : await freshStart(outputDir, args, preset, options.overwrite === true);

  const batchOptions = { batchSize, seqLen, bosId: tokenizer.bosId, eosId: tokenizer.eosId, targets: preset.targets };
  const samplers = {
    train: new BatchSampler(corpus.splits.train, batchOptions, start.rngs.train),
    evalTrain: new BatchSampler(corpus.splits.train, batchOptions, start.rngs.evalTrain),
    evalVal: new BatchSampler(corpus.splits.val, batchOptions, start.rngs.evalVal),
  };
  const log = start.lossLog;
  const trainer = new LlamaTrainer(backend, args, start.values);
  let optimizer: AdamW | undefined;
  try {
    optimizer = new AdamW(
      backend,
      trainer.params,
      preset.optimizer,
      start.moments ? { moments: start.moments, step: start.step } : undefined,
    );
    const adam = optimizer;
    await options.onStart?.({
      preset,
      parameters: parameterCount(args),
      vocabSize,
      trainTokens: corpus.splits.train.length,
      valTokens: corpus.splits.val.length,
      startStep: start.step,
      steps,
      resumed: options.resume === true,
    });

    const tokensPerStep = batchSize * seqLen;
    let step = start.step;
    let tokensSeen = start.tokensSeen;
    let sessionTokens = 0;
    let trainSeconds = 0;
    let windowTokens = 0;
    let windowSeconds = 0;
    let lastCheckpoint = options.resume ? start.step : -1;
    const elapsed = () => start.elapsedSeconds + (performance.now() - started) / 1e3;

    const meanLoss = async (sampler: BatchSampler) => {
      let total = 0;
      for (let i = 0; i < preset.evalBatches; i++) total += await trainer.loss(sampler.next());
      return total / preset.evalBatches;
    };
    const evaluate = async () => {
      const trainLoss = await meanLoss(samplers.evalTrain);
      const valLoss = await meanLoss(samplers.evalVal);
      const record = {
        step,
        trainLoss,
        valLoss,
        lr: learningRate(preset.schedule, step),
        tokensPerSecond: windowSeconds > 0 ? windowTokens / windowSeconds : 0,
      };
      log.append(record);
      windowTokens = 0;
      windowSeconds = 0;
      await log.writeCSV(join(outputDir, LOSS_CSV_FILE));
      await log.writeSVG(join(outputDir, LOSS_SVG_FILE), { title: `llama-ts train: ${preset.name}` });
      await options.onEval?.({ ...record, steps });
    };
    const checkpoint = async () => {
      const tensors = new Map<string, Float32Array>();
      for (const [name, t] of trainer.params) tensors.set(name, await t.toFloat32());
      await writeCheckpoint(outputDir, { params, tensors, tokenizer });
      const config: SavedConfig = {
        run,
        weights: fingerprint(parameterSpecs(args).map(({ name }) => tensors.get(name) as Float32Array)),
        steps,
      };
      const rng = Object.fromEntries(RNG_ROLES.map((role) => [role, start.rngs[role].state()])) as Record<
        RngRole,
        RngState
      >;
      await writeTrainingState(
        outputDir,
        { step, rng, lossLog: log.toJSON(), tokensSeen, elapsedSeconds: elapsed(), preset: preset.name, config },
        await adam.moments(),
      );
      lastCheckpoint = step;
      await options.onCheckpoint?.(outputDir, step);
    };
    // After `step` updates: evaluate and checkpoint when due. A resumed run's first boundary was
    // done before its checkpoint was written.
    const boundary = async () => {
      if (step % preset.evalInterval === 0 || step === steps) await evaluate();
      if (step > 0 && (step % preset.checkpointInterval === 0 || step === steps)) await checkpoint();
    };

    if (!options.resume) await boundary();
    let interrupted = false;
    while (step < steps) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      const stepStart = performance.now();
      const lr = learningRate(preset.schedule, step);
      const loss = await trainer.lossAndGradients(samplers.train.next());
      if (!Number.isFinite(loss)) {
        throw new TrainingError(
          `training diverged at step ${step + 1}: the loss is ${loss}; lower the learning rate or set gradClip`,
        );
      }
      let gradNorm: number | undefined;
      let gradScale = 1;
      if (preset.gradClip !== null) {
        gradNorm = await globalGradNorm(backend, trainer.gradients.values());
        if (!Number.isFinite(gradNorm)) {
          throw new TrainingError(`training diverged at step ${step + 1}: the gradient norm is ${gradNorm}`);
        }
        gradScale = clipScale(gradNorm, preset.gradClip);
      }
      adam.update(trainer.gradients, { lr, gradScale });
      step++;
      tokensSeen += tokensPerStep;
      sessionTokens += tokensPerStep;
      windowTokens += tokensPerStep;
      const seconds = (performance.now() - stepStart) / 1e3;
      trainSeconds += seconds;
      windowSeconds += seconds;
      await options.onStep?.({
        step,
        steps,
        loss,
        lr,
        tokensPerSecond: trainSeconds > 0 ? sessionTokens / trainSeconds : 0,
        ...(gradNorm !== undefined ? { gradNorm } : {}),
      });
      await yieldToEventLoop();
      await boundary();
    }
    if (interrupted && lastCheckpoint !== step) await checkpoint();

    const last = log.records.at(-1);
    return {
      steps: step,
      finalTrainLoss: last?.trainLoss ?? Number.NaN,
      finalValLoss: last?.valLoss ?? Number.NaN,
      tokensPerSecond: trainSeconds > 0 ? sessionTokens / trainSeconds : 0,
      seconds: (performance.now() - started) / 1e3,
      elapsedSeconds: elapsed(),
      tokensSeen,
      outputDir,
      interrupted,
      preset,
      lossLog: log,
    };
  } finally {
    optimizer?.dispose();
    trainer.dispose();
  }
}

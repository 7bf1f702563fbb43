/**
 * The training loop: Adam / AdamW updates with the preset's schedule and gradient clipping,
 * train and val loss on a few batches every `evalInterval` steps (loss.csv and loss.svg), Meta
 * checkpoints with resume state every `checkpointInterval` steps, and `resume` that continues a
 * run exactly as if it had not stopped.
 */

import { join } from 'node:path';
import { writeCheckpoint } from './checkpoint.js';
import { BatchSampler, batchStartCount } from './data.js';
import { TrainingError } from './errors.js';
import { parameterCount, parameterSpecs } from './init.js';
import { LlamaTrainer } from './llama-train.js';
import { AdamW, clipScale, globalGradNorm } from './optimizer.js';
import { presetArgs, presetParams } from './presets.js';
import { resolvePreset } from './resolve-preset.js';
import { writeTrainingState } from './resume-state.js';
import type { RngState } from './rng.js';
import {
  fingerprint,
  normalizedParams,
  RNG_ROLES,
  type RngRole,
  type RunConfig,
  type SavedConfig,
} from './run-config.js';
import { LOSS_CSV_FILE, LOSS_SVG_FILE } from './run-folder.js';
import { lockRunFolder } from './run-lock.js';
import { freshStart, resumeStart } from './run-start.js';
import { learningRate } from './schedule.js';
import { checkOptions, corpusOf, type TrainOptions, type TrainSummary } from './train-options.js';
import { checkTrainingFits } from './training-budget.js';

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
  const { backend, outputDir } = options;
  const preset = resolvePreset(options.preset, {
    ...options.overrides,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  const corpus = corpusOf(options.data);
  const { tokenizer } = corpus;
  const vocabSize = tokenizer.vocabSize;
  const { seqLen, batchSize } = preset;
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
  // Before anything is allocated from the sizes (weights, batches, activations).
  checkTrainingFits(preset, args, backend);
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
  // One training per folder: the lock is taken before the folder is read or written.
  const lock = await lockRunFolder(outputDir);
  try {
    return await trainLocked(options, { started, preset, corpus, params, args, run });
  } finally {
    await lock.release();
  }
}

interface Prepared {
  started: number;
  preset: ReturnType<typeof resolvePreset>;
  corpus: ReturnType<typeof corpusOf>;
  params: ReturnType<typeof normalizedParams>;
  args: ReturnType<typeof presetArgs>;
  run: RunConfig;
}

async function trainLocked(options: TrainOptions, prepared: Prepared): Promise<TrainSummary> {
  const { started, preset, corpus, params, args, run } = prepared;
  const { backend, outputDir, signal } = options;
  const { tokenizer } = corpus;
  const { seqLen, batchSize, steps } = preset;
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
      vocabSize: tokenizer.vocabSize,
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

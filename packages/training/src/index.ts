export {
  argsOfParams,
  type CheckpointContents,
  type Parameters,
  writeCheckpoint,
} from './checkpoint.js';
export {
  type Batch,
  type BatchOptions,
  BatchSampler,
  type CorpusSplits,
  prepareCorpus,
  type TargetAlignment,
  type TrainingCorpus,
} from './data.js';
export { TrainingError } from './errors.js';
export {
  GPT2_INIT,
  type InitScheme,
  initParameters,
  type ParameterSpec,
  parameterCount,
  parameterSpecs,
  TORCH_DEFAULT_INIT,
} from './init.js';
export { LlamaTrainer } from './llama-train.js';
export { type LossCurveOptions, LossLog, type LossRecord, lossCurveSVG } from './metrics.js';
export { AdamW, clipScale, globalGradNorm, type StepOptions } from './optimizer.js';
export {
  defaultPreset,
  estimateTrainingFlops,
  type FlopEstimate,
  getPreset,
  type ModelShape,
  type OptimizerConfig,
  PRESETS,
  type PresetName,
  presetArgs,
  presetParams,
  seed003,
  type TrainingPreset,
} from './presets.js';
export { type PresetOverrides, resolvePreset } from './resolve-preset.js';
export {
  type OptimizerMoments,
  type ResumePoint,
  readTrainingState,
  type TrainingState,
  writeTrainingState,
} from './resume-state.js';
export { type RngState, TrainingRng } from './rng.js';
export {
  inspectOutputDir,
  LOCK_FILE,
  LOSS_CSV_FILE,
  LOSS_SVG_FILE,
  type OutputDirState,
  trainingStatePath,
} from './run-folder.js';
export {
  type CosineScheduleOptions,
  constantLr,
  cosineLr,
  type LrSchedule,
  learningRate,
  lrAt,
} from './schedule.js';
export { train } from './train.js';
export type {
  TrainEvalInfo,
  TrainingData,
  TrainOptions,
  TrainStartInfo,
  TrainStepInfo,
  TrainSummary,
} from './train-options.js';

export {
  argsOfParams,
  type CheckpointContents,
  type MetaParams,
  OPTIMIZER_FILE,
  type OptimizerMoments,
  PARAMS_FILE,
  type Parameters,
  RESUME_DIR,
  type ResumePoint,
  readParameters,
  readParams,
  readTrainingState,
  TOKENIZER_FILE,
  TRAINING_STATE_FILE,
  type TrainingState,
  WEIGHTS_FILE,
  writeCheckpoint,
  writeTrainingState,
} from './checkpoint.js';
export {
  type Batch,
  type BatchOptions,
  BatchSampler,
  batchAt,
  batchStartCount,
  type CorpusSplits,
  prepareCorpus,
  REFERENCE_SPLIT,
  type SplitName,
  sampleBatch,
  splitTokens,
  type TargetAlignment,
  type TrainingCorpus,
} from './data.js';
export { TrainingError } from './errors.js';
export {
  GPT2_INIT,
  type InitScheme,
  initParameters,
  numel,
  type ParameterSpec,
  parameterCount,
  parameterSpecs,
  TORCH_DEFAULT_INIT,
} from './init.js';
export { LlamaTrainer } from './llama-train.js';
export {
  CSV_HEADER,
  type LossCurveOptions,
  LossLog,
  type LossRecord,
  lossCurveSVG,
  niceTicks,
} from './metrics.js';
export { AdamW, clipScale, decaysWeight, globalGradNorm, type StepOptions, validateOptimizer } from './optimizer.js';
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
export { type PresetOverrides, resolvePreset, scaleSchedule, validatePreset } from './resolve-preset.js';
export { Rng, type RngState } from './rng.js';
export {
  type CosineScheduleOptions,
  constantLr,
  cosineLr,
  type LrSchedule,
  learningRate,
  lrAt,
  validateSchedule,
} from './schedule.js';
export {
  LOSS_CSV_FILE,
  LOSS_SVG_FILE,
  type TrainEvalInfo,
  type TrainingData,
  type TrainOptions,
  type TrainStartInfo,
  type TrainStepInfo,
  type TrainSummary,
  train,
} from './train.js';

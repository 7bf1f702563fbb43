export type { Backend, BackendChoice } from '@llama-ts/kernels';
export { argsFromHF, argsFromMetaParams, ffnHiddenDim, type ModelArgs, type RuntimeSizes } from './args.js';
export { type HFLlama3RopeScaling, type HFLlamaConfig, parseHFConfig, readHFConfig } from './checkpoint/hf-config.js';
export { modelParallelSplit, openPthCheckpoint } from './checkpoint/pth.js';
export { type PthTensorToWrite, writePthCheckpoint } from './checkpoint/pth-writer.js';
export { HF_ROPE_LAYOUT, openSafetensorsCheckpoint, unpermuteHFRows } from './checkpoint/safetensors.js';
export type { CheckpointDType, CheckpointReader, CheckpointTensor } from './checkpoint/types.js';
export { ModelError } from './errors.js';
export {
  type CheckpointFormat,
  type LoadModelOptions,
  loadModel,
  type OpenedCheckpoint,
  openCheckpoint,
} from './load.js';
export { LLAMA31_ROPE_SCALING, type RopeScaling, ropeFrequencies } from './rope.js';
export { type ForwardOptions, Transformer } from './transformer.js';
export {
  checkTensors,
  expectedShapes,
  type LayerWeights,
  type LlamaWeights,
  type LoadProgress,
  loadWeights,
  type WeightStorage,
} from './weights.js';

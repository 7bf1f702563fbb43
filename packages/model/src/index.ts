export type { Backend, BackendChoice } from '@llama-ts/kernels';
export {
  argsFromHF,
  argsFromMetaParams,
  type CheckpointOptions,
  ffnHiddenDim,
  LLAMA2_ROPE_THETA,
  LLAMA3_ROPE_THETA,
  type LlamaFamily,
  type ModelArgs,
  type RuntimeSizes,
} from './args.js';
export {
  CHAR_TOKENIZER_FILE,
  findTokenizerFile,
  HF_CONFIG_FILE,
  LLAMA3_TOKENIZER_FILE,
  META_PARAMS_FILE,
  metaShardFile,
  TOKENIZER_FILES,
} from './checkpoint/folder/layout.js';
export {
  type CheckpointFormat,
  type OpenedCheckpoint,
  openCheckpoint,
  readMetaParams,
} from './checkpoint/folder/open.js';
export { type MetaCheckpointToWrite, type MetaParams, writeMetaCheckpoint } from './checkpoint/folder/write.js';
export {
  type GGUFCheckpoint,
  type GGUFCheckpointTensor,
  isGGUFFile,
  openGGUFCheckpoint,
  q8_0FromGGMLBlocks,
} from './checkpoint/gguf/checkpoint.js';
export { GGMLTypeId, GGUFTokenType, GGUFValueType } from './checkpoint/gguf/format.js';
export { GGUFMetadata } from './checkpoint/gguf/metadata.js';
export {
  type GGUFHeader,
  type GGUFMetadataEntry,
  type GGUFTensorInfo,
  type GGUFValue,
  readGGUFHeader,
} from './checkpoint/gguf/reader.js';
export {
  encodeGGML,
  type GGMLEncodableType,
  type GGUFMetadataToWrite,
  type GGUFTensorToWrite,
  type GGUFToWrite,
  type GGUFValueToWrite,
  ggufValue,
  type LlamaGGUFToWrite,
  writeGGUF,
  writeLlamaGGUF,
} from './checkpoint/gguf/writer.js';
export type { HFLlamaConfig } from './checkpoint/hf-config.js';
export { openPthCheckpoint } from './checkpoint/pth.js';
export { type PthTensorToWrite, writePthCheckpoint } from './checkpoint/pth-writer.js';
export { openRegularFile, readRegularText } from './checkpoint/regular-file.js';
export type {
  CheckpointDType,
  CheckpointReader,
  CheckpointTensor,
  QuantizedDType,
  TensorDType,
} from './checkpoint/types.js';
export { ModelError } from './errors.js';
export {
  beyondLimit,
  checkModelFits,
  type FitCheckOptions,
  type MemoryLimit,
  type ModelFootprint,
  memoryLimit,
  modelFootprint,
} from './footprint.js';
export { type LoadModelOptions, loadModel } from './load.js';
export { LLAMA31_ROPE_SCALING, type RopeScaling, ropeFrequencies } from './rope.js';
export { expectedShapes } from './shapes.js';
export { type BatchRow, type ForwardOptions, Transformer } from './transformer.js';
export type { WeightStorage } from './weight-storage.js';
export { type LayerWeights, type LlamaWeights, type LoadProgress, loadWeights } from './weights.js';

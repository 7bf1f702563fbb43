export { type BackendFactory, type BackendPool, backendPool } from './backends.js';
export {
  GOLDEN_CHECKPOINTS,
  type GoldenCheckpoint,
  type GoldenExpected,
  goldenDir,
  goldenExpected,
  llama3TokenizerPath,
  sentencePieceTokenizerPath,
} from './golden.js';
export {
  MODEL_TEST_BACKENDS,
  type ModelTestBackend,
  modelTestFactories,
  type TestBackendOptions,
} from './model-backends.js';
export { seededRandom } from './random.js';
export {
  type F32TensorToWrite,
  type PthWriter,
  type RandomLlamaSizes,
  type RandomTensor,
  randomLlamaTensors,
  writeRandomLlama2Checkpoint,
  writeRandomLlama3Checkpoint,
} from './random-checkpoint.js';
export {
  type ExampleRun,
  type ReadmeExample,
  readmeExample,
  readmeExamples,
  runReadmeExample,
} from './readme-examples.js';
export {
  type ReferenceOptions,
  type ReferenceSizes,
  type ReferenceWeight,
  referenceLogits,
} from './reference-forward.js';
export { type ProcessResult, runProcess } from './run-process.js';
export { readSharedJson, readSharedText, sharedDir, sharedPath } from './shared.js';
export {
  acquireWebGPUForTests,
  REQUIRE_WEBGPU_ENV,
  type WebGPUAvailability,
  webgpuRequired,
} from './webgpu-policy.js';

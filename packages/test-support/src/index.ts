export { type BackendFactory, type BackendPool, backendPool } from './backends.js';
export {
  MODEL_TEST_BACKENDS,
  type ModelTestBackend,
  modelTestFactories,
  type TestBackendOptions,
} from './model-backends.js';
export { seededRandom } from './random.js';
export { type RandomLlamaSizes, type RandomTensor, randomLlamaTensors } from './random-checkpoint.js';
export { readSharedJson, readSharedText, sharedDir, sharedPath } from './shared.js';
export {
  acquireWebGPUForTests,
  REQUIRE_WEBGPU_ENV,
  type WebGPUAvailability,
  webgpuRequired,
} from './webgpu-policy.js';

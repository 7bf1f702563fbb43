export {
  describeAdapter,
  navigatorGPU,
  OPTIONAL_FEATURES,
  requestWebGPUDevice,
  type WebGPUContext,
  type WebGPUDeviceOptions,
} from './webgpu/device.js';

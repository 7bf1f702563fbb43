/**
 * @llama-ts/kernels, Node entry: everything from the browser entry, with WebGPU supplied by Dawn
 * (the `webgpu` package, loaded only when a WebGPU adapter is asked for, so that the cpu and wasm
 * backends work where its native binary cannot load) and the wasm backend's workers as worker_threads.
 */
import type { Backend } from './backend.js';
import { type BackendOptions, backendMakers } from './backend-makers.js';
import { createBackendWith } from './create-backend.js';
import { NODE_WASM_HOST } from './wasm/node-workers.js';
import {
  requestWebGPUDevice as requestWithGPU,
  type WebGPUContext,
  type WebGPUDeviceOptions,
} from './webgpu/device.js';

export * from './index.js';

let dawn: Promise<GPU> | undefined;

/**
 * Dawn's GPU object, created once (the `webgpu` package is imported on the first call). Also
 * defines the WebGPU globals (GPUBufferUsage, ...) Node lacks.
 */
export function nodeGPU(): Promise<GPU> {
  dawn ??= import('webgpu').then(({ create, globals }) => {
    for (const [name, value] of Object.entries(globals)) {
      if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    }
    return create([]);
  });
  return dawn;
}

export async function requestWebGPUDevice(options: WebGPUDeviceOptions = {}): Promise<WebGPUContext | undefined> {
  return requestWithGPU({ ...options, gpu: options.gpu ?? (await nodeGPU()) });
}

export function createBackend(options: BackendOptions = {}): Promise<Backend> {
  return createBackendWith(
    backendMakers(options, nodeGPU, () => NODE_WASM_HOST),
    options,
  );
}

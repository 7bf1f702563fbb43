/**
 * @llama-ts/kernels, Node entry: everything from the browser entry, with WebGPU supplied by Dawn
 * (the `webgpu` package) when the caller passes no GPU object.
 */
import { create, globals } from 'webgpu';
import type { Backend } from './backend.js';
import { type BackendOptions, createBackend as createWithGPU } from './index.js';
import {
  requestWebGPUDevice as requestWithGPU,
  type WebGPUContext,
  type WebGPUDeviceOptions,
} from './webgpu/device.js';

export * from './index.js';

let dawn: GPU | undefined;

/** Dawn's GPU object, created once. Also defines the WebGPU globals (GPUBufferUsage, ...) Node lacks. */
export function nodeGPU(): GPU {
  if (!dawn) {
    for (const [name, value] of Object.entries(globals)) {
      if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    }
    dawn = create([]);
  }
  return dawn;
}

export function requestWebGPUDevice(options: WebGPUDeviceOptions = {}): Promise<WebGPUContext | undefined> {
  return requestWithGPU({ ...options, gpu: options.gpu ?? nodeGPU() });
}

export function createBackend(options: BackendOptions = {}): Promise<Backend> {
  return createWithGPU({ ...options, gpu: options.gpu ?? (options.kind === 'cpu' ? undefined : nodeGPU()) });
}

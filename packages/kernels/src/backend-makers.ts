import type { Backend } from './backend.js';
import type { BackendMakers, CreateBackendOptions } from './create-backend.js';
import { WasmBackend, type WasmBackendOptions, type WasmHost } from './wasm/backend.js';
import { WebGPUBackend, type WebGPUBackendOptions } from './webgpu/backend.js';
import { openWebGPUDevice } from './webgpu/device.js';

export type BackendOptions = CreateBackendOptions & WebGPUBackendOptions & WasmBackendOptions;

/** createBackendWith's makers, given where the GPU object comes from and how the wasm pool starts workers. */
export function backendMakers(
  options: BackendOptions,
  gpu: () => Promise<GPU | undefined>,
  wasmHost: () => WasmHost,
): BackendMakers {
  return {
    async adapter() {
      const entry = options.gpu ?? (await gpu());
      return (await entry?.requestAdapter()) ?? undefined;
    },
    async webgpu(adapter): Promise<Backend> {
      return new WebGPUBackend(await openWebGPUDevice(adapter), options);
    },
    wasm: () => WasmBackend.create(wasmHost(), options),
  };
}

import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/backend.js';
import { KernelError } from './errors.js';

export type BackendChoice = 'webgpu' | 'cpu' | 'auto';

export interface CreateBackendOptions {
  /** 'auto' (default) uses WebGPU when an adapter exists, else the CPU backend. */
  kind?: BackendChoice;
  /** The WebGPU entry point; defaults to navigator.gpu (in Node, to Dawn from the `webgpu` package). */
  gpu?: GPU;
  /** Where 'auto' says which backend it picked (once per process). Default console.warn (stderr in Node, away from program output); null to silence. */
  log?: ((message: string) => void) | null;
}

/**
 * Set by the entry points: the browser entry supplies the WebGPU backend on navigator.gpu, the Node
 * entry the same backend on Dawn. Kept as a hook so that this module stays free of both.
 */
export type WebGPUBackendFactory = (options: CreateBackendOptions) => Promise<Backend | undefined>;

let saidWhich = false;

export async function createBackendWith(
  createWebGPU: WebGPUBackendFactory,
  options: CreateBackendOptions = {},
): Promise<Backend> {
  const kind = options.kind ?? 'auto';
  if (kind !== 'webgpu' && kind !== 'cpu' && kind !== 'auto') {
    throw new KernelError(`createBackend: kind must be 'webgpu', 'cpu' or 'auto', got ${JSON.stringify(kind)}`);
  }
  if (kind === 'cpu') return new CpuBackend();
  let webgpu: Backend | undefined;
  let failure = 'no WebGPU adapter was found';
  try {
    webgpu = await createWebGPU(options);
  } catch (error) {
    failure = `WebGPU failed to start: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (kind === 'webgpu') {
    if (!webgpu) throw new KernelError(`createBackend: WebGPU was asked for but ${failure}`);
    return webgpu;
  }
  const backend = webgpu ?? new CpuBackend();
  const log = options.log === undefined ? console.warn : options.log;
  if (log && !saidWhich) {
    saidWhich = true;
    log(webgpu ? `llama-ts: ${webgpu.description}` : `llama-ts: ${failure}; using the CPU backend`);
  }
  return backend;
}

import type { Backend } from './backend.js';
import { CpuBackend } from './cpu/backend.js';
import { KernelError } from './errors.js';

export type BackendChoice = 'webgpu' | 'wasm' | 'cpu' | 'auto';

const CHOICES: readonly BackendChoice[] = ['webgpu', 'wasm', 'cpu', 'auto'];

export interface CreateBackendOptions {
  /**
   * 'auto' (default) uses WebGPU on a hardware GPU adapter, else (a software adapter such as
   * llvmpipe/lavapipe or SwiftShader, or none) the wasm backend.
   */
  kind?: BackendChoice;
  /** The WebGPU entry point; defaults to navigator.gpu (in Node, to Dawn from the `webgpu` package). */
  gpu?: GPU;
  /** Threads of the wasm backend, the calling thread included. Default: the machine's available parallelism. */
  threads?: number;
  /** Where 'auto' says which backend it picked (once per process). Default console.warn (stderr in Node, away from program output); null to silence. */
  log?: ((message: string) => void) | null;
}

/**
 * Supplied by the entry points (the browser entry: navigator.gpu and Web Workers; the Node entry:
 * Dawn, loaded only when asked for, and worker_threads), so that this module stays free of both.
 */
export interface BackendMakers {
  /** The WebGPU adapter, or undefined when there is none. */
  adapter(options: CreateBackendOptions): Promise<GPUAdapter | undefined>;
  /** A WebGPU backend on that adapter. */
  webgpu(adapter: GPUAdapter, options: CreateBackendOptions): Promise<Backend>;
  wasm(options: CreateBackendOptions): Promise<Backend>;
}

/**
 * Why an adapter is a software renderer (WebGPU emulated on the CPU, slower there than the wasm
 * backend), or undefined for a real GPU: `isFallbackAdapter`, or a known software device in its info.
 */
export function softwareAdapterReason(adapter: GPUAdapter): string | undefined {
  const info = (adapter.info ?? {}) as Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean };
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  const fallback = info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const known = /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render/i.exec(name);
  if (fallback || known || info.architecture === 'software') {
    return `the WebGPU adapter is a software renderer (${name || 'a fallback adapter'})`;
  }
  return undefined;
}

let saidWhich = false;

export async function createBackendWith(makers: BackendMakers, options: CreateBackendOptions = {}): Promise<Backend> {
  const kind = options.kind ?? 'auto';
  if (!CHOICES.includes(kind)) {
    throw new KernelError(`createBackend: kind must be 'webgpu', 'wasm', 'cpu' or 'auto', got ${JSON.stringify(kind)}`);
  }
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new KernelError(`createBackend: threads must be a positive integer, got ${JSON.stringify(options.threads)}`);
  }
  if (kind === 'cpu') return new CpuBackend();
  if (kind === 'wasm') return makers.wasm(options);
  let adapter: GPUAdapter | undefined;
  let failure = 'no WebGPU adapter was found';
  try {
    adapter = await makers.adapter(options);
  } catch (error) {
    failure = `WebGPU failed to start: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (kind === 'webgpu') {
    if (!adapter) throw new KernelError(`createBackend: WebGPU was asked for but ${failure}`);
    return makers.webgpu(adapter, options);
  }
  let backend: Backend | undefined;
  if (adapter) {
    const software = softwareAdapterReason(adapter);
    if (software) failure = software;
    else {
      try {
        backend = await makers.webgpu(adapter, options);
      } catch (error) {
        failure = `WebGPU failed to start: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
  }
  backend ??= await makers.wasm(options);
  const log = options.log === undefined ? console.warn : options.log;
  if (log && !saidWhich) {
    saidWhich = true;
    log(
      backend.kind === 'webgpu'
        ? `llama-ts: ${backend.description}`
        : `llama-ts: ${failure}; using the ${backend.description}`,
    );
  }
  return backend;
}

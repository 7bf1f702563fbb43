import { KernelError } from '../errors.js';
import { KERNELS_WASM, type KernelExport } from './generated/kernels-wasm.js';

export type { KernelExport };

export interface KernelsModule {
  module: WebAssembly.Module;
  /** Whether this is the relaxed-SIMD build (the runtime validated it). */
  relaxed: boolean;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The compiled kernels for a shared (threads) or unshared memory: the relaxed-SIMD build where the
 * runtime validates it (and `relaxed` is not false), else the plain-SIMD one; a runtime without
 * SIMD gets a one-line error.
 */
export function loadKernelsModule(shared: boolean, relaxed = true): KernelsModule {
  const plain = decodeBase64(shared ? KERNELS_WASM.sharedSimd : KERNELS_WASM.singleSimd);
  const relaxedText = shared ? KERNELS_WASM.sharedRelaxed : KERNELS_WASM.singleRelaxed;
  if (relaxed && relaxedText) {
    const relaxed = decodeBase64(relaxedText);
    if (WebAssembly.validate(relaxed)) return { module: new WebAssembly.Module(relaxed), relaxed: true };
  }
  if (!WebAssembly.validate(plain)) {
    throw new KernelError(
      'wasm backend: this JavaScript runtime does not support WebAssembly SIMD' +
        (shared ? ' with shared memory' : '') +
        ' (Node 20+ and current browsers do); use the cpu backend',
    );
  }
  return { module: new WebAssembly.Module(plain), relaxed: false };
}

/** The module's exported function names in export order: the index a thread pool call refers to. */
export function kernelNames(module: WebAssembly.Module): KernelExport[] {
  return WebAssembly.Module.exports(module)
    .filter((entry) => entry.kind === 'function')
    .map((entry) => entry.name as KernelExport);
}

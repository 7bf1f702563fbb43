import type { BackendFactory } from './backends.js';

/**
 * The options of kernels' `createBackend` that the factories below pass (test-support depends on
 * no package of ours, so the caller hands its `createBackend` in).
 */
export interface TestBackendOptions {
  kind: 'cpu' | 'webgpu' | 'wasm';
  log?: null;
  threads?: number;
  minWorkPerThread?: number;
}

/** The backends a whole-model test (golden fixtures, generation, training) runs on. */
export const MODEL_TEST_BACKENDS = ['cpu', 'webgpu', 'wasm-1', 'wasm-2', 'wasm-3'] as const;
export type ModelTestBackend = (typeof MODEL_TEST_BACKENDS)[number];

/**
 * How to make each of MODEL_TEST_BACKENDS, for `backendPool`: the CPU reference, WebGPU (by the
 * WebGPU test policy), and the wasm backend on 1, 2 and 3 threads with every op split across all of
 * them however small (minWorkPerThread 1: a tiny model's ops would otherwise run on one thread).
 */
export function modelTestFactories<B>(createBackend: (options: TestBackendOptions) => Promise<B>): {
  readonly [N in ModelTestBackend]: BackendFactory<B>;
} {
  const wasm = (threads: number): BackendFactory<B> => ({
    webgpu: false,
    create: () => createBackend({ kind: 'wasm', threads, minWorkPerThread: 1, log: null }),
  });
  return {
    cpu: { webgpu: false, create: () => createBackend({ kind: 'cpu' }) },
    webgpu: { webgpu: true, create: () => createBackend({ kind: 'webgpu', log: null }) },
    'wasm-1': wasm(1),
    'wasm-2': wasm(2),
    'wasm-3': wasm(3),
  };
}

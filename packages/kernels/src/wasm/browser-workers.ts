/** The wasm thread pool's workers in browsers: classic Web Workers from a Blob URL of the embedded source. */
import type { WasmHost } from './backend.js';
import type { PoolWorker, SpawnWorker } from './pool.js';
import { BROWSER_WORKER_SOURCE } from './worker-source.js';

let url: string | undefined;

function browserSpawner(): SpawnWorker | undefined {
  if (typeof Worker === 'undefined' || typeof Blob === 'undefined' || typeof URL.createObjectURL !== 'function') {
    return undefined;
  }
  return (): PoolWorker => {
    url ??= URL.createObjectURL(new Blob([BROWSER_WORKER_SOURCE], { type: 'text/javascript' }));
    const worker = new Worker(url, { name: 'llama-ts wasm kernels' });
    return {
      postMessage: (message) => worker.postMessage(message),
      unref: () => {},
      terminate: () => {
        worker.terminate();
        return undefined;
      },
      onMessage: (listener) => worker.addEventListener('message', (event) => listener(event.data)),
      onExit: (listener) => worker.addEventListener('error', (event) => listener(`failed: ${event.message}`)),
    };
  };
}

export function browserWasmHost(): WasmHost {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return { spawn: browserSpawner(), defaultThreads: cores && cores > 0 ? cores : 1 };
}

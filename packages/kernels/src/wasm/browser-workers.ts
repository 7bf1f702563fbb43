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
    // A Web Worker has no exit event: an uncaught error is the only sign of its failing, and
    // terminate() is told to the pool here, as Node's exit event is, so the next op says so.
    const exitListeners: ((reason: string) => void)[] = [];
    let exited = false;
    const exit = (reason: string) => {
      if (exited) return;
      exited = true;
      for (const listener of exitListeners) listener(reason);
    };
    worker.addEventListener('error', (event) => exit(`failed: ${event.message}`));
    return {
      postMessage: (message) => worker.postMessage(message),
      unref: () => {},
      terminate: () => {
        worker.terminate();
        exit('was terminated');
        return undefined;
      },
      onMessage: (listener) => worker.addEventListener('message', (event) => listener(event.data)),
      onExit: (listener) => {
        exitListeners.push(listener);
      },
    };
  };
}

export function browserWasmHost(): WasmHost {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return { spawn: browserSpawner(), defaultThreads: cores && cores > 0 ? cores : 1 };
}

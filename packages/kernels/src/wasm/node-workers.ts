/** The wasm thread pool's workers in Node: worker_threads running the embedded worker source. */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WasmHost } from './backend.js';
import type { PoolWorker } from './pool.js';
import { NODE_WORKER_SOURCE } from './worker-source.js';

function spawnNodeWorker(): PoolWorker {
  const worker = new Worker(NODE_WORKER_SOURCE, { eval: true, name: 'llama-ts wasm kernels' });
  return {
    postMessage: (message) => worker.postMessage(message),
    unref: () => worker.unref(),
    terminate: () => worker.terminate(),
    onMessage: (listener) => worker.on('message', listener),
    onExit: (listener) => {
      let said = false;
      const once = (reason: string) => {
        if (!said) listener(reason);
        said = true;
      };
      worker.on('error', (error) => once(`failed: ${error instanceof Error ? error.message : String(error)}`));
      worker.on('exit', (code) => once(`exited (code ${code})`));
    },
  };
}

export const NODE_WASM_HOST: WasmHost = { spawn: spawnNodeWorker, defaultThreads: availableParallelism() };

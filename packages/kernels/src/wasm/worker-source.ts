import type { ControlLayout } from './control.js';

/** The message that starts a worker: the compiled kernels, the shared memory, where the control block is. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: number;
  layout: ControlLayout;
  tid: number;
  /** Polls of GEN before a worker blocks in Atomics.wait. */
  spin: number;
}

/** What a worker posts back once: ready, or why it could not start. */
export type WorkerReply = { type: 'ready' } | { type: 'error'; message: string };

/**
 * The body of every pool worker, as JavaScript source: a plain string rather than a stringified
 * function, because transpilers (tsx, vitest, coverage) inject helpers into functions that the
 * worker would not have. `host` is { receive(listener), post(reply), close() }.
 *
 * On the init message: instantiate the module over the shared memory, say ready, then loop: poll
 * GEN (spin), Atomics.wait on it, join the call if it is still open (control.ts), claim and run
 * parts while there are any (a kernel's exception goes to ERROR with its message), bump DONE and
 * notify. Any other failure marks the worker DEAD and wakes
 * the caller, so that a dying worker gives an error instead of a hang.
 */
const WORKER_MAIN = `function workerMain(host) {
  host.receive((init) => {
    const L = init.layout;
    let kernels;
    try {
      const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
      kernels = WebAssembly.Module.exports(init.module)
        .filter((entry) => entry.kind === 'function')
        .map((entry) => instance.exports[entry.name]);
    } catch (error) {
      host.post({ type: 'error', message: String(error) });
      return;
    }
    const ctl = new Int32Array(init.memory.buffer, init.control, L.WORDS);
    const args = new Float64Array(init.memory.buffer, init.control + L.ARGS_OFFSET, L.MAX_ARGS);
    const tid = init.tid;
    // ERROR holds 1 + the failing part (the kernel's tid), DEAD 1 + this worker's tid.
    const report = (word, id, error) => {
      if (Atomics.compareExchange(ctl, word, 0, id + 1) !== 0) return;
      const text = new TextEncoder().encode(String(error instanceof Error ? (error.stack || error) : error));
      const length = Math.min(text.length, L.MESSAGE_CAPACITY);
      new Uint8Array(init.memory.buffer, init.control + L.MESSAGE_OFFSET, length).set(text.subarray(0, length));
      Atomics.store(ctl, L.MESSAGE_BYTES, length);
    };
    const call = [];
    // Read before saying ready: the first call may bump GEN as soon as the caller hears it.
    let seen = Atomics.load(ctl, L.GEN);
    host.post({ type: 'ready' });
    try {
      for (;;) {
        let gen = Atomics.load(ctl, L.GEN);
        for (let i = 0; gen === seen && i < init.spin; i++) gen = Atomics.load(ctl, L.GEN);
        while (gen === seen) {
          Atomics.wait(ctl, L.GEN, seen);
          gen = Atomics.load(ctl, L.GEN);
        }
        seen = gen;
        if (Atomics.load(ctl, L.STOP)) break;
        // Join the open call, unless the caller has closed it (it ran out of parts without us).
        if (Atomics.add(ctl, L.JOIN, 1) & L.JOIN_CLOSED) continue;
        if (tid < Atomics.load(ctl, L.ACTIVE)) {
          const n = Atomics.load(ctl, L.NARGS);
          const parts = Atomics.load(ctl, L.PARTS);
          const kernel = kernels[Atomics.load(ctl, L.FN)];
          call.length = n + 2;
          call[1] = parts;
          for (let i = 0; i < n; i++) call[i + 2] = args[i];
          for (;;) {
            const part = Atomics.add(ctl, L.NEXT, 1);
            if (part >= parts) break;
            call[0] = part;
            try {
              kernel.apply(null, call);
            } catch (error) {
              report(L.ERROR, part, error);
              break;
            }
          }
        }
        Atomics.add(ctl, L.DONE, 1);
        Atomics.notify(ctl, L.DONE);
      }
    } catch (error) {
      report(L.DEAD, tid, error);
      Atomics.store(ctl, L.DEAD, tid + 1);
      Atomics.add(ctl, L.DONE, 1);
      Atomics.notify(ctl, L.DONE);
    }
    host.close();
  });
}`;

/** Node (worker_threads, `eval: true`: a CommonJS script with require). */
export const NODE_WORKER_SOURCE = `'use strict';
const { parentPort } = require('node:worker_threads');
(${WORKER_MAIN})({
  receive: (listener) => parentPort.once('message', listener),
  post: (reply) => parentPort.postMessage(reply),
  close: () => parentPort.close(),
});
`;

/** Browsers (a classic Web Worker from a Blob URL). */
export const BROWSER_WORKER_SOURCE = `'use strict';
(${WORKER_MAIN})({
  receive: (listener) => { self.onmessage = (event) => { self.onmessage = null; listener(event.data); }; },
  post: (reply) => self.postMessage(reply),
  close: () => self.close(),
});
`;

import { KernelError } from '../errors.js';
import { CONTROL } from './control.js';
import type { KernelExport } from './module.js';
import type { WorkerInit, WorkerReply } from './worker-source.js';

/** A started worker, as the host (Node's worker_threads or a browser's Web Workers) provides it. */
export interface PoolWorker {
  postMessage(message: WorkerInit): void;
  /** Lets the process exit while the worker lives (Node); browsers have nothing to do. */
  unref(): void;
  /** Stops the worker; may resolve once it has exited. */
  terminate(): Promise<unknown> | undefined;
  onMessage(listener: (reply: WorkerReply) => void): void;
  /** Called once when the worker stops running (exit, or an error outside the kernels). */
  onExit(listener: (reason: string) => void): void;
}

/** Starts one worker running the pool's worker source (see worker-source.ts). */
export type SpawnWorker = () => PoolWorker;

/** Polls of a control word before blocking in Atomics.wait (a decode step is ~150 calls: wake-up latency counts). */
const SPIN = 20_000;

/**
 * Runs kernel exports on `threads` threads: the calling thread is tid 0, the workers 1..threads-1.
 * A call is synchronous: it returns once every taking-part thread has finished (see control.ts).
 */
export class ThreadPool {
  readonly threads: number;
  readonly #kernels: ((...args: number[]) => void)[];
  readonly #names: readonly KernelExport[];
  readonly #index: Map<KernelExport, number>;
  readonly #memory: WebAssembly.Memory;
  readonly #control: number;
  readonly #ctl: Int32Array;
  readonly #args: Float64Array;
  readonly #workers: PoolWorker[];
  readonly #canBlock: boolean;
  readonly #call: number[] = [];
  #dead: string | undefined;
  #destroyed = false;

  private constructor(
    instance: WebAssembly.Instance,
    names: readonly KernelExport[],
    memory: WebAssembly.Memory,
    control: number,
    workers: PoolWorker[],
  ) {
    this.threads = workers.length + 1;
    this.#names = names;
    this.#index = new Map(names.map((name, i) => [name, i]));
    this.#kernels = names.map((name) => instance.exports[name] as (...args: number[]) => void);
    this.#memory = memory;
    this.#control = control;
    this.#ctl = new Int32Array(memory.buffer, control, CONTROL.WORDS);
    this.#args = new Float64Array(memory.buffer, control + CONTROL.ARGS_OFFSET, CONTROL.MAX_ARGS);
    this.#workers = workers;
    this.#canBlock = canBlock(this.#ctl);
    workers.forEach((worker, i) => {
      worker.onExit((reason) => {
        if (!this.#destroyed && this.#dead === undefined)
          this.#dead = `worker ${i + 1} of ${this.threads - 1} ${reason}`;
      });
    });
  }

  /**
   * A pool over `memory` (shared when threads > 1) with `threads - 1` workers started and ready.
   * `control` is a CONTROL.BYTES region of the memory, zeroed.
   */
  static async create(options: {
    module: WebAssembly.Module;
    names: readonly KernelExport[];
    memory: WebAssembly.Memory;
    control: number;
    threads: number;
    spawn?: SpawnWorker;
  }): Promise<ThreadPool> {
    const { module, memory, control, threads, spawn } = options;
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    const workers: PoolWorker[] = [];
    if (threads > 1) {
      if (!spawn) throw new KernelError('wasm backend: threads > 1 needs a way to start workers (none was given)');
      try {
        for (let tid = 1; tid < threads; tid++) workers.push(spawn());
        await Promise.all(
          workers.map(
            (worker, i) =>
              new Promise<void>((resolve, reject) => {
                worker.onMessage((reply) => {
                  if (reply.type === 'ready') resolve();
                  else reject(new KernelError(`wasm backend: worker ${i + 1} could not start: ${reply.message}`));
                });
                worker.onExit((reason) =>
                  reject(new KernelError(`wasm backend: worker ${i + 1} ${reason} while starting`)),
                );
                worker.postMessage({ module, memory, control, layout: CONTROL, tid: i + 1, spin: SPIN });
              }),
          ),
        );
      } catch (error) {
        for (const worker of workers) worker.terminate();
        throw error;
      }
      // Only now: an unref'd worker could let the process exit while we wait for it to start.
      for (const worker of workers) worker.unref();
    }
    return new ThreadPool(instance, options.names, memory, control, workers);
  }

  /**
   * Calls `kernel(part, parts, ...args)` for every part 0..parts-1 (default: one part per thread)
   * on up to `nthreads` threads (1..threads), and returns once all parts are done. Parts go to
   * whichever thread claims them first (see control.ts), so a thread the OS holds up does not hold
   * up the call; a kernel whose parts may not run one after the other on one thread (none: kernels
   * share no state between parts) would not fit.
   */
  run(kernel: KernelExport, args: readonly number[], nthreads: number, parts?: number): void {
    if (this.#destroyed) throw new KernelError('wasm backend: used after destroy()');
    if (this.#dead !== undefined) throw this.#deadError();
    const index = this.#index.get(kernel);
    if (index === undefined) throw new KernelError(`wasm backend: no kernel export named ${kernel}`);
    const fn = this.#kernels[index] as (...args: number[]) => void;
    const active = Math.max(1, Math.min(this.threads, nthreads | 0));
    const count = Math.max(1, (parts ?? active) | 0);
    const call = this.#call;
    call.length = args.length + 2;
    call[1] = count;
    for (let i = 0; i < args.length; i++) call[i + 2] = args[i] as number;
    if (active === 1) {
      for (let part = 0; part < count; part++) {
        call[0] = part;
        try {
          fn.apply(null, call);
        } catch (error) {
          throw kernelError(kernel, part, error);
        }
      }
      return;
    }
    if (args.length > CONTROL.MAX_ARGS)
      throw new KernelError(`wasm backend: ${kernel} has more than ${CONTROL.MAX_ARGS} arguments`);
    const ctl = this.#ctl;
    this.#args.set(args);
    Atomics.store(ctl, CONTROL.FN, index);
    Atomics.store(ctl, CONTROL.NARGS, args.length);
    Atomics.store(ctl, CONTROL.ACTIVE, active);
    Atomics.store(ctl, CONTROL.PARTS, count);
    Atomics.store(ctl, CONTROL.NEXT, 0);
    Atomics.store(ctl, CONTROL.DONE, 0);
    Atomics.store(ctl, CONTROL.JOIN, 0);
    Atomics.add(ctl, CONTROL.GEN, 1);
    Atomics.notify(ctl, CONTROL.GEN);
    let own: unknown;
    let ownPart = 0;
    for (;;) {
      const part = Atomics.add(ctl, CONTROL.NEXT, 1);
      if (part >= count) break;
      call[0] = part;
      try {
        fn.apply(null, call);
      } catch (error) {
        own = error;
        ownPart = part;
        break;
      }
    }
    // No more joins: only the workers that joined (and may hold a part) are waited for.
    const joined = Atomics.or(ctl, CONTROL.JOIN, CONTROL.JOIN_CLOSED) & (CONTROL.JOIN_CLOSED - 1);
    if (joined > 0) this.#waitForWorkers(joined);
    const failed = Atomics.load(ctl, CONTROL.ERROR);
    if (failed !== 0) {
      const message = this.#message();
      Atomics.store(ctl, CONTROL.ERROR, 0);
      throw kernelError(kernel, failed - 1, message);
    }
    if (own !== undefined) throw kernelError(kernel, ownPart, own);
  }

  #waitForWorkers(expected: number): void {
    const ctl = this.#ctl;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(ctl, CONTROL.DONE);
      if (done >= expected) break;
      if (Atomics.load(ctl, CONTROL.DEAD) !== 0) {
        const tid = Atomics.load(ctl, CONTROL.DEAD);
        this.#dead = `worker ${tid - 1} of ${this.#workers.length} failed: ${this.#message()}`;
        throw this.#deadError();
      }
      // Block in slices, so that a worker's death (DEAD) is seen even if it could not notify.
      if (++spins > SPIN && this.#canBlock) Atomics.wait(ctl, CONTROL.DONE, done, 50);
    }
  }

  #message(): string {
    const length = Atomics.load(this.#ctl, CONTROL.MESSAGE_BYTES);
    // Copied out first: TextDecoder refuses views of a SharedArrayBuffer in browsers.
    const bytes = new Uint8Array(this.#memory.buffer, this.#control + CONTROL.MESSAGE_OFFSET, length).slice();
    return new TextDecoder().decode(bytes);
  }

  #deadError(): KernelError {
    return new KernelError(
      `wasm backend: ${this.#dead}; this backend cannot run ops any more (destroy it and create a new one)`,
    );
  }

  /** Stops and terminates the workers. Idempotent. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#workers.length === 0) return;
    Atomics.store(this.#ctl, CONTROL.STOP, 1);
    Atomics.add(this.#ctl, CONTROL.GEN, 1);
    Atomics.notify(this.#ctl, CONTROL.GEN);
    for (const worker of this.#workers) worker.terminate();
  }

  /** For tests: terminates worker `tid` (1-based) as if it had died; resolves once the pool has seen it exit. */
  async killWorkerForTesting(tid: number): Promise<void> {
    await this.#workers[tid - 1]?.terminate();
    for (let i = 0; this.#dead === undefined && i < 5000; i++) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  get kernelNames(): readonly KernelExport[] {
    return this.#names;
  }
}

function kernelError(kernel: string, tid: number, error: unknown): KernelError {
  const text = error instanceof Error ? error.message : String(error).split('\n')[0];
  return new KernelError(`wasm backend: kernel ${kernel} failed on thread ${tid}: ${text}`);
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canBlock(ctl: Int32Array): boolean {
  try {
    Atomics.wait(ctl, CONTROL.STOP, 1, 0); // STOP is 0: returns 'not-equal' at once where waiting is allowed
    return true;
  } catch {
    return false;
  }
}

import type { Backend } from '../backend.js';
import { byteSize, type DType, numElements } from '../dtype.js';
import { KernelError } from '../errors.js';
import { formatBytes } from '../format-bytes.js';
import type { OpInputs, OpName, OpOutputs, OpParams } from '../op-contract.js';
import { OPS } from '../registry.js';
import { Tensor } from '../tensor.js';
import { CONTROL } from './control.js';
import type { WasmOpContext } from './kernel.js';
import { WasmMemory } from './memory.js';
import { type KernelExport, kernelNames, loadKernelsModule } from './module.js';
import { profiling, recordDispatch } from './op-profile.js';
import { type SpawnWorker, ThreadPool } from './pool.js';

export interface WasmBackendOptions {
  /** Threads that run kernels, the calling thread included. Default: the machine's available parallelism. */
  threads?: number;
  /**
   * The least work (about the elements an op reads or writes) per thread before an op uses another
   * thread. Default 16384; the tests set 1 so that every op splits, however small.
   */
  minWorkPerThread?: number;
  /**
   * Whether to use the relaxed-SIMD build of the kernels where the runtime has relaxed SIMD (Node 22+,
   * Chrome 114+: fused multiply-add, a cheaper int8 dot product). Default true; false runs the
   * plain-SIMD build everywhere (the tests run both).
   */
  relaxedSimd?: boolean;
  /** Where the backend says once that it runs on one thread for want of SharedArrayBuffer. Default console.warn; null to silence. */
  log?: ((message: string) => void) | null;
}

/** What the entry point (Node or browser) supplies: how to start a worker, how many threads the machine has. */
export interface WasmHost {
  spawn: SpawnWorker | undefined;
  defaultThreads: number;
}

/** A wasm tensor's storage: a region of the backend's memory. */
export interface WasmStorage {
  readonly ptr: number;
  readonly byteLength: number;
}

const DEFAULT_MIN_WORK = 16384;
let saidSingleThread = false;

/**
 * Ops as WebAssembly SIMD kernels (AssemblyScript: each op's in its room, src/ops/<op>/*.as.ts,
 * shared ones in src/wasm/kernels) on one shared memory, split across a pool of worker threads.
 * Dispatch runs the op synchronously, like the CPU backend.
 */
export class WasmBackend implements Backend {
  readonly kind = 'wasm' as const;
  readonly description: string;
  readonly threads: number;
  /** The most bytes of tensors this backend can hold (wasm32: 4 GiB, less the kernels' static area). */
  readonly capacityBytes: number;
  readonly #memory: WasmMemory;
  readonly #pool: ThreadPool;
  readonly #minWork: number;
  #scratch: { ptr: number; bytes: number }[] = [];
  readonly #context: WasmOpContext;
  #destroyed = false;

  private constructor(memory: WasmMemory, pool: ThreadPool, relaxed: boolean, minWork: number) {
    this.#memory = memory;
    this.#pool = pool;
    this.threads = pool.threads;
    this.#minWork = minWork;
    this.capacityBytes = memory.maxBytes - memory.used;
    this.description =
      `WebAssembly ${relaxed ? 'relaxed SIMD' : 'SIMD'} backend, ${pool.threads} thread${pool.threads === 1 ? '' : 's'}` +
      ` (memory limit ${formatBytes(memory.maxBytes)})`;
    const scratch = (bytes: number) => {
      const ptr = this.#memory.allocate(bytes);
      this.#scratch.push({ ptr, bytes });
      return ptr;
    };
    this.#context = {
      ptr: (tensor) => this.#storage(tensor).ptr,
      run: (kernel, args, work, parts) => {
        const threads = this.#threadsFor(work);
        this.#pool.run(kernel, args, threads, threads === 1 ? 1 : parts);
      },
      runSingle: (kernel, args) => this.#pool.run(kernel, args, 1),
      scratch,
      threadScratch: (bytesPerThread) => {
        const stride = Math.max(64, Math.ceil(bytesPerThread / 64) * 64);
        return [scratch(stride * pool.threads), stride];
      },
      threads: pool.threads,
    };
  }

  static async create(host: WasmHost, options: WasmBackendOptions = {}): Promise<WasmBackend> {
    const requested = options.threads ?? host.defaultThreads;
    if (!Number.isInteger(requested) || requested < 1) {
      throw new KernelError(`wasm backend: threads must be a positive integer, got ${JSON.stringify(options.threads)}`);
    }
    const sharedOk = sharedMemoryAvailable();
    const threads = sharedOk && host.spawn ? requested : 1;
    if (threads < requested) {
      const log = options.log === undefined ? console.warn : options.log;
      if (log && !saidSingleThread) {
        saidSingleThread = true;
        log(
          sharedOk
            ? 'llama-ts: this runtime cannot start workers; the wasm backend runs on one thread'
            : 'llama-ts: SharedArrayBuffer is unavailable (a page must be cross-origin isolated for it); the wasm backend runs on one thread',
        );
      }
    }
    const shared = threads > 1;
    const { module, relaxed } = loadKernelsModule(shared, options.relaxedSimd ?? true);
    const names = kernelNames(module);
    // The kernels' static area ends at heapBase (they have no data, but keep clear of it anyway).
    const probe = new WebAssembly.Instance(module, {
      env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 1, shared }) },
    });
    const base = (probe.exports.heapBase as () => number)();
    const memory = new WasmMemory({ shared, base });
    const control = memory.allocate(CONTROL.BYTES);
    memory.bytes().fill(0, control, control + CONTROL.BYTES);
    const pool = await ThreadPool.create({ module, names, memory: memory.memory, control, threads, spawn: host.spawn });
    return new WasmBackend(memory, pool, relaxed, options.minWorkPerThread ?? DEFAULT_MIN_WORK);
  }

  #threadsFor(work: number): number {
    return Math.max(1, Math.min(this.threads, Math.floor(work / this.#minWork)));
  }

  #storage(tensor: Tensor): WasmStorage {
    if (tensor.backend !== this) throw new KernelError(`wasm backend: ${tensor} belongs to another backend`);
    if (tensor.disposed) throw new KernelError(`wasm backend: ${tensor} was disposed`);
    return tensor.storage as WasmStorage;
  }

  allocate(dtype: DType, shape: readonly number[], options: { zeroed?: boolean } = {}): Tensor {
    this.#alive();
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new KernelError(`allocate: invalid shape [${shape.join(', ')}]`);
    }
    const byteLength = byteSize(dtype, numElements(shape));
    const ptr = this.#memory.allocate(byteLength);
    if (options.zeroed) this.#memory.bytes().fill(0, ptr, ptr + byteLength);
    return new Tensor(this, dtype, shape, { ptr, byteLength } satisfies WasmStorage);
  }

  write(tensor: Tensor, bytes: Uint8Array): void {
    this.#alive();
    const { ptr, byteLength } = this.#storage(tensor);
    if (bytes.byteLength !== byteLength) {
      throw new KernelError(`write: ${tensor} takes ${byteLength} bytes, got ${bytes.byteLength}`);
    }
    this.#memory.bytes().set(bytes, ptr);
  }

  async read(tensor: Tensor): Promise<Uint8Array> {
    this.#alive();
    const { ptr, byteLength } = this.#storage(tensor);
    return this.#memory.bytes().slice(ptr, ptr + byteLength);
  }

  dispatch<Name extends OpName>(
    op: Name,
    inputs: OpInputs[Name],
    outputs: OpOutputs[Name],
    params: OpParams[Name],
  ): void {
    this.#alive();
    const start = profiling ? performance.now() : 0;
    try {
      OPS[op].wasm(this.#context, inputs, outputs, params);
    } finally {
      if (profiling) recordDispatch(op, outputs, start);
      for (const { ptr, bytes } of this.#scratch) this.#memory.free(ptr, bytes);
      this.#scratch = [];
    }
  }

  view(tensor: Tensor, shape: readonly number[]): Tensor {
    return new Tensor(this, tensor.dtype, shape, tensor.storage, tensor.base ?? tensor);
  }

  release(tensor: Tensor): void {
    if (this.#destroyed) return;
    const { ptr, byteLength } = tensor.storage as WasmStorage;
    this.#memory.free(ptr, byteLength);
  }

  async synchronize(): Promise<void> {}

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#pool.destroy();
  }

  /** For tests: terminates worker `tid` (1..threads-1) as if it had died; resolves once the pool knows. */
  killWorkerForTesting(tid: number): Promise<void> {
    return this.#pool.killWorkerForTesting(tid);
  }

  /**
   * Runs a kernel export directly on `nthreads` threads, tensors passed as their addresses: for
   * tests (`testTrap`) and the bench (`readSum`, the read-bandwidth yardstick). Ops use `dispatch`.
   */
  runKernel(kernel: KernelExport, args: readonly (number | Tensor)[], nthreads: number): void {
    this.#alive();
    this.#pool.run(
      kernel,
      args.map((arg) => (typeof arg === 'number' ? arg : this.#storage(arg).ptr)),
      nthreads,
    );
  }

  #alive(): void {
    if (this.#destroyed) throw new KernelError('wasm backend: used after destroy()');
  }
}

/** Whether a shared WebAssembly.Memory can be made here (browsers: only in cross-origin-isolated pages). */
function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

export type { KernelExport };

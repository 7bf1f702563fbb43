/**
 * The page script of the browser test (test/browser.test.ts) and the browser bench
 * (bench/browser.ts). Bundled by esbuild from the package's browser entry (`@llama-ts/kernels`
 * resolves to dist/index.js under the `default` export condition), with no configuration beyond
 * the entry point. It exposes `window.kernelsPage`; the Node side sends inputs and compares outputs
 * (float arrays travel as base64 text of their f32 bytes: f32-text.ts).
 */
import {
  attention,
  type Backend,
  byteSize,
  createBackend,
  fromArray,
  KernelError,
  matmul,
  type Tensor,
  type WasmBackend,
  type WeightDType,
} from '@llama-ts/kernels';
import { f32ToText, textToF32 } from './f32-text.js';

/** What the page says about where it runs. */
export interface PageInfo {
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
}

/** A wasm backend as the page made it. */
export interface WasmInfo {
  threads: number;
  description: string;
}

/** y = x · wᵀ on the wasm backend and on the cpu backend of the same page. */
export interface MatmulRequest {
  M: number;
  N: number;
  K: number;
  dtype: WeightDType;
  x: string;
  w: string;
  /** x as the cpu backend is to take it (the wasm backend's q8_0 decode quantizes x first), else x. */
  xForCpu: string;
}

/** Causal attention of q [B, T, H, Dh] over caches [S, L, Hkv, Dh] at startPos, on both backends. */
export interface AttentionRequest {
  batch: number;
  tokens: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  slots: number;
  maxSeqLen: number;
  startPos: number;
  slot: number;
  q: string;
  k: string;
  v: string;
}

/** One op's output on each backend. */
export interface BothBackends {
  wasm: string;
  cpu: string;
}

/** A matrix-vector product's speed: seconds per call and GB/s of weight bytes read, median and best. */
export interface MatvecFigure {
  threads: number;
  seconds: number;
  gbs: number;
  bestGbs: number;
}

export interface KernelsPage {
  info(): PageInfo;
  /** Creates the page's wasm backend (replacing any earlier one); `threads` omitted: the default. */
  createWasm(threads?: number): Promise<WasmInfo>;
  /** createBackend() as an app calls it ('auto'): the kind and description it picked. */
  createAuto(): Promise<{ kind: string; description: string }>;
  matmul(request: MatmulRequest): Promise<BothBackends>;
  attention(request: AttentionRequest): Promise<BothBackends>;
  /** Runs the testTrap kernel on every thread of the wasm backend: the KernelError's message, per part. */
  trapOnEachThread(): string[];
  /** Terminates worker 1 of the wasm backend, as if it had died, then runs an op: its error, or 'ran'. */
  killWorkerThenRun(): Promise<string>;
  /** Creates a wasm backend whose workers are started from a script that throws: its error, or 'created'. */
  createWithFailingWorker(threads: number): Promise<string>;
  matvecBench(K: number, dtype: WeightDType, threads: number): Promise<MatvecFigure>;
  destroy(): void;
}

let wasm: WasmBackend | undefined;
let cpu: Backend | undefined;

async function wasmBackend(): Promise<WasmBackend> {
  if (!wasm) throw new Error('kernelsPage.createWasm first');
  return wasm;
}

async function cpuBackend(): Promise<Backend> {
  cpu ??= await createBackend({ kind: 'cpu' });
  return cpu;
}

async function valuesOf(tensor: Tensor): Promise<string> {
  const values = await tensor.toFloat32();
  tensor.dispose();
  return f32ToText(values);
}

async function runMatmul(backend: Backend, request: MatmulRequest, x: string): Promise<string> {
  const { M, N, K, dtype } = request;
  const xs = fromArray(backend, textToF32(x), [M, K]);
  const ws = fromArray(backend, textToF32(request.w), [N, K], dtype);
  const y = await valuesOf(matmul(xs, ws));
  xs.dispose();
  ws.dispose();
  return y;
}

async function runAttention(backend: Backend, r: AttentionRequest): Promise<string> {
  const cache = [r.slots, r.maxSeqLen, r.kvHeads, r.headDim];
  const q = fromArray(backend, textToF32(r.q), [r.batch, r.tokens, r.heads, r.headDim]);
  const k = fromArray(backend, textToF32(r.k), cache);
  const v = fromArray(backend, textToF32(r.v), cache);
  const y = await valuesOf(attention(q, k, v, { startPos: r.startPos, slot: r.slot }));
  for (const t of [q, k, v]) t.dispose();
  return y;
}

/**
 * Seconds per call of `run`: the median and the best of 21 samples, each a batch of calls lasting
 * at least 20 ms, after half a second of warm-up (V8 runs a new module's kernels on its baseline
 * tier until its optimising compiler, on a background thread, has caught up).
 */
function secondsPerCall(run: () => void): { median: number; best: number } {
  let batch = 1;
  const sample = () => {
    const start = performance.now();
    for (let i = 0; i < batch; i++) run();
    return (performance.now() - start) / 1e3 / batch;
  };
  for (const warm = performance.now() + 500; performance.now() < warm; ) run();
  while (batch < 4096 && sample() * batch < 0.02) batch *= 2;
  const times = Array.from({ length: 21 }, sample).sort((a, b) => a - b);
  return { median: times[10] as number, best: times[0] as number };
}

const page: KernelsPage = {
  info: () => ({
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
    hardwareConcurrency: navigator.hardwareConcurrency,
  }),

  async createWasm(threads) {
    wasm?.destroy();
    wasm = (await createBackend({ kind: 'wasm', threads, minWorkPerThread: 1 })) as WasmBackend;
    return { threads: wasm.threads, description: wasm.description };
  },

  async createAuto() {
    const backend = await createBackend();
    const { kind, description } = backend;
    backend.destroy();
    return { kind, description };
  },

  async matmul(request) {
    return {
      wasm: await runMatmul(await wasmBackend(), request, request.x),
      cpu: await runMatmul(await cpuBackend(), request, request.xForCpu),
    };
  },

  async attention(request) {
    return {
      wasm: await runAttention(await wasmBackend(), request),
      cpu: await runAttention(await cpuBackend(), request),
    };
  },

  trapOnEachThread() {
    const backend = wasm;
    if (!backend) throw new Error('kernelsPage.createWasm first');
    return Array.from({ length: backend.threads }, (_, part) => {
      try {
        backend.runKernel('testTrap', [part], backend.threads);
        return 'no error';
      } catch (error) {
        return error instanceof KernelError ? error.message : `not a KernelError: ${String(error)}`;
      }
    });
  },

  async killWorkerThenRun() {
    const backend = await wasmBackend();
    await backend.killWorkerForTesting(1);
    const x = fromArray(backend, [1, 2, 3, 4], [1, 4]);
    try {
      matmul(x, x).dispose();
      return 'ran';
    } catch (error) {
      return error instanceof KernelError ? error.message : `not a KernelError: ${String(error)}`;
    } finally {
      x.dispose();
    }
  },

  async createWithFailingWorker(threads) {
    const RealWorker = globalThis.Worker;
    const failing = URL.createObjectURL(new Blob(['throw new Error("this worker fails on purpose")']));
    globalThis.Worker = class extends RealWorker {
      constructor(_url: string | URL, options?: WorkerOptions) {
        super(failing, options);
      }
    };
    try {
      const backend = await createBackend({ kind: 'wasm', threads, log: null });
      backend.destroy();
      return 'created';
    } catch (error) {
      return error instanceof KernelError ? error.message : `not a KernelError: ${String(error)}`;
    } finally {
      globalThis.Worker = RealWorker;
    }
  },

  async matvecBench(K, dtype, threads) {
    const backend = (await createBackend({ kind: 'wasm', threads, log: null })) as WasmBackend;
    try {
      const wave = (n: number, step: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * step) * 0.1);
      const x = fromArray(backend, wave(K, 1), [1, K]);
      const w = fromArray(backend, wave(K * K, 0.37), [K, K], dtype);
      const { median, best } = secondsPerCall(() => matmul(x, w).dispose());
      const bytes = byteSize(dtype, K * K);
      return { threads: backend.threads, seconds: median, gbs: bytes / median / 1e9, bestGbs: bytes / best / 1e9 };
    } finally {
      backend.destroy();
    }
  },

  destroy() {
    wasm?.destroy();
    cpu?.destroy();
    wasm = undefined;
    cpu = undefined;
  },
};

(globalThis as { kernelsPage?: KernelsPage }).kernelsPage = page;

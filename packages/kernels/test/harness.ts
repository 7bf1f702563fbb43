/**
 * Shared harness of the op tests (llama.cpp's test-backend-ops pattern): the backends every op runs
 * on, a seeded PRNG, weight round trips through the storage dtypes, and a comparison against a
 * float64 reference that says what went wrong (op, backend, case, shape, worst element).
 */
import { type BackendFactory, backendPool, seededRandom } from '@llama-ts/test-support';
import { afterAll, beforeAll, expect, type TestContext } from 'vitest';
import { blockElements, dequantizeQ8_0, encodeAs, f16ToF32, f32ToF16, quantizeQ8_0 } from '../src/dtype.js';
import { type Backend, createBackend, type WeightDType } from '../src/node.js';
import { dequantizeExact } from '../src/quant/dequantize.js';

/** The binding limit of the 'webgpu-split' backend. */
export const SPLIT_BINDING_BYTES = 4096;

/**
 * Every test backend, by name, and how to make it. A new backend (or a variant of one) is one entry
 * here, and one in OP_BACKENDS when every op is to run on it.
 * - cpu: the CPU reference backend.
 * - webgpu: the WebGPU backend with the device's real binding limit and optional features.
 * - webgpu-baseline: the same device, with the kernels told that no optional feature (shader-f16,
 *   subgroups) is enabled, so that their fallback paths run too (lavapipe has both features).
 * - webgpu-split: the WebGPU backend with a 4 KiB binding limit, so that any tensor over 4 KiB is
 *   split into row chunks (only matmul's weight and embedding's table may be split; see
 *   split-bindings.test.ts).
 * - wasm-1, wasm-2, wasm-3: the wasm backend on 1, 2 and 3 threads, every op split across all of
 *   them however small (minWorkPerThread 1), so that odd sizes meet uneven thread slices. They run
 *   the relaxed-SIMD kernels where the runtime has relaxed SIMD (vitest.config.ts turns it on for
 *   Node 20, where it is behind a flag).
 * - wasm-plain: the wasm backend on 2 threads running the plain-SIMD kernels, which runtimes
 *   without relaxed SIMD get.
 */
const FACTORIES = {
  cpu: { webgpu: false, create: () => createBackend({ kind: 'cpu' }) },
  webgpu: { webgpu: true, create: () => createBackend({ kind: 'webgpu', log: null }) },
  'webgpu-baseline': {
    webgpu: true,
    create: () => createBackend({ kind: 'webgpu', log: null, disableFeatures: ['shader-f16', 'subgroups'] }),
  },
  'webgpu-split': {
    webgpu: true,
    create: () => createBackend({ kind: 'webgpu', log: null, maxBindingSize: SPLIT_BINDING_BYTES }),
  },
  'wasm-1': wasmFactory(1),
  'wasm-2': wasmFactory(2),
  'wasm-3': wasmFactory(3),
  'wasm-plain': {
    webgpu: false,
    create: () => createBackend({ kind: 'wasm', threads: 2, minWorkPerThread: 1, log: null, relaxedSimd: false }),
  },
} satisfies Record<string, BackendFactory<Backend>>;

function wasmFactory(threads: number): BackendFactory<Backend> {
  return { webgpu: false, create: () => createBackend({ kind: 'wasm', threads, minWorkPerThread: 1, log: null }) };
}

export type BackendName = keyof typeof FACTORIES;

/** The backends every op's cases (test/op-cases.ts) run on. */
export const OP_BACKENDS: readonly BackendName[] = [
  'cpu',
  'webgpu',
  'webgpu-baseline',
  'wasm-1',
  'wasm-2',
  'wasm-3',
  'wasm-plain',
];

export interface BackendPool {
  /** The backend, or skips the test (context.skip) with the reason it is unavailable. */
  get(name: BackendName, context: TestContext): Backend;
}

/**
 * Creates the named backends once for the calling test file (beforeAll) and destroys them after it
 * (afterAll), by test-support's policy: without a WebGPU adapter its tests skip, saying why, unless
 * LLAMA_TS_REQUIRE_WEBGPU=1, where beforeAll throws and the file fails.
 */
export function useBackends(names: readonly BackendName[]): BackendPool {
  const pool = backendPool(FACTORIES);
  beforeAll(() => pool.setUp(names));
  afterAll(() => pool.tearDown());
  return { get: (name, context) => pool.get(name, (reason) => context.skip(reason)) };
}

// ---------------------------------------------------------------------------------------------
// Random data

/** A PRNG seeded from a case name, so that every case has its own reproducible data. */
export function rngFor(name: string): () => number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return seededRandom(h);
}

/** n f32 values uniform in [lo, hi). */
export function uniform(rng: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

/** n integers uniform in [lo, hi). */
export function randomInts(rng: () => number, n: number, lo: number, hi: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + Math.floor((hi - lo) * rng());
  return out;
}

/**
 * The values a weight holds once stored in `dtype` (f16 rounding, q8_0 quantisation; the 4-6-bit
 * block formats quantised by ggml's reference quantiser and dequantised exactly, in float64).
 * References use these, so that tolerances measure the kernel's error and not the storage format's.
 */
export function asStored(values: Float32Array, dtype: WeightDType, cols: number): Float32Array | Float64Array {
  const block = blockElements(dtype);
  if (cols % block !== 0) throw new Error(`asStored: ${dtype} needs a multiple of ${block} columns, got ${cols}`);
  switch (dtype) {
    case 'f32':
      return values;
    case 'f16':
      return f16ToF32(f32ToF16(values));
    case 'q8_0':
      return dequantizeQ8_0(quantizeQ8_0(values), values.length);
    default:
      return dequantizeExact(dtype, encodeAs(dtype, values), values.length);
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface Tolerance {
  /** Absolute part. */
  abs: number;
  /** Relative part, times |expected|. An element passes when |got - expected| <= abs + rel·|expected|. */
  rel: number;
}

export interface Described {
  op: string;
  backend: string;
  /** The case, e.g. 'M=3 N=100 K=1003 f16'. */
  label: string;
  shape: readonly number[];
}

function coordinates(index: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length).fill(0);
  let rest = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    const size = shape[d] as number;
    coords[d] = size > 0 ? rest % size : 0;
    rest = Math.floor(rest / Math.max(1, size));
  }
  return coords;
}

/**
 * Fails with one readable message when any element of `actual` is further from `expected` than
 * `tolerance` allows. Non-finite expected values (±Inf, NaN) must be matched exactly.
 */
export function expectClose(
  actual: Float32Array,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  what: Described,
): void {
  const where = `${what.op} on ${what.backend} (${what.label}), shape [${what.shape.join(', ')}]`;
  if (actual.length !== expected.length) {
    expect.fail(`${where}: got ${actual.length} values, expected ${expected.length}`);
  }
  let failures = 0;
  let worst = -1;
  let worstRatio = 0;
  let maxError = 0;
  let maxErrorAt = -1;
  for (let i = 0; i < actual.length; i++) {
    const got = actual[i] as number;
    const want = expected[i] as number;
    let ratio: number;
    if (!Number.isFinite(want)) {
      ratio = Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want)) ? 0 : Number.POSITIVE_INFINITY;
    } else {
      const error = Math.abs(got - want);
      if (!(error <= maxError)) {
        maxError = Number.isNaN(error) ? Number.POSITIVE_INFINITY : error;
        maxErrorAt = i;
      }
      const allowed = tolerance.abs + tolerance.rel * Math.abs(want);
      ratio = Number.isNaN(error) ? Number.POSITIVE_INFINITY : allowed > 0 ? error / allowed : error > 0 ? Infinity : 0;
    }
    if (ratio > 1) {
      failures++;
      if (ratio > worstRatio) {
        worstRatio = ratio;
        worst = i;
      }
    }
  }
  if (process.env.LLAMA_TS_TEST_ERRORS === '1') {
    // One line per comparison, for calibrating tolerances: the worst error as a fraction of the allowed one.
    let ratio = 0;
    for (let i = 0; i < actual.length; i++) {
      const want = expected[i] as number;
      if (!Number.isFinite(want)) continue;
      const allowed = tolerance.abs + tolerance.rel * Math.abs(want);
      const error = Math.abs((actual[i] as number) - want);
      ratio = Math.max(ratio, allowed > 0 ? error / allowed : error > 0 ? Number.POSITIVE_INFINITY : 0);
    }
    console.log(`[errors] ${where}: max abs error ${maxError}, worst error / allowed ${ratio.toPrecision(3)}`);
  }
  if (failures === 0) return;
  const got = actual[worst] as number;
  const want = expected[worst] as number;
  expect.fail(
    `${where}: ${failures} of ${actual.length} elements out of tolerance (abs ${tolerance.abs} + rel ${tolerance.rel}). ` +
      `Worst at index ${worst} [${coordinates(worst, what.shape).join(', ')}]: got ${got}, expected ${want}, ` +
      `error ${Math.abs(got - want)}, allowed ${tolerance.abs + tolerance.rel * Math.abs(want)}. ` +
      `Max abs error ${maxError} at index ${maxErrorAt} [${coordinates(maxErrorAt, what.shape).join(', ')}].`,
  );
}

/** Exact equality of integer outputs (argmax), with the first mismatching row in the message. */
export function expectExact(actual: ArrayLike<number>, expected: ArrayLike<number>, what: Described): void {
  const where = `${what.op} on ${what.backend} (${what.label}), shape [${what.shape.join(', ')}]`;
  if (actual.length !== expected.length) {
    expect.fail(`${where}: got ${actual.length} values, expected ${expected.length}`);
  }
  const bad: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) bad.push(`[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
  if (bad.length > 0) {
    expect.fail(
      `${where}: ${bad.length} of ${actual.length} differ: ${bad.slice(0, 8).join('; ')}${bad.length > 8 ? '; ...' : ''}`,
    );
  }
}

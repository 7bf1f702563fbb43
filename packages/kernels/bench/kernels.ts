/**
 * Roofline figures for every backend: matmul GFLOP/s, matrix-vector GB/s per weight dtype (f32,
 * f16, q8_0 and llama.cpp's 4-6-bit formats: GB/s of the stored bytes) beside
 * the device's own copy bandwidth (wasm: a SIMD read-bandwidth kernel at the same thread count),
 * attention decode over 2048 cached positions, and (WebGPU) the tiled prefill matmul against a
 * naive one-thread-per-output kernel.
 *
 * Run: pnpm --filter @llama-ts/kernels bench [-- --backend cpu|webgpu|wasm] [-- --threads N] [-- --quick]
 */

import { byteSize } from '../src/dtype.js';
import {
  attention,
  type Backend,
  blocksToStorage,
  createBackend,
  fromArray,
  fromBytes,
  ggmlBytes,
  isBlockDType,
  kvWrite,
  matmul,
  quantizeToGgmlBlocks,
  type Tensor,
  WasmBackend,
  WEIGHT_DTYPES,
  WebGPUBackend,
  type WeightDType,
  zeros,
} from '../src/node.js';

const args = process.argv.slice(2);
const only = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : undefined;
const quick = args.includes('--quick');
const threads = args.includes('--threads') ? Number(args[args.indexOf('--threads') + 1]) : undefined;

function random(n: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32 - 0.5) * 0.2;
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * Median seconds of one `run` (recorded work), after a warm-up. On a fast GPU one op takes
 * microseconds while a synchronize round trip takes far longer, so each sample records `batch`
 * runs before it synchronizes, with `batch` doubled until a sample lasts at least 20 ms; at least
 * `reps` samples or 1 s.
 */
async function time(backend: Backend, run: () => Tensor | undefined, reps = 5): Promise<number> {
  const sample = async (batch: number) => {
    const start = performance.now();
    for (let i = 0; i < batch; i++) run()?.dispose();
    await backend.synchronize();
    return (performance.now() - start) / 1e3;
  };
  await sample(1);
  let batch = 1;
  while (batch < 4096 && (await sample(batch)) < 0.02) batch *= 2;
  const samples: number[] = [];
  const deadline = performance.now() + 1000;
  while (samples.length < reps || (performance.now() < deadline && samples.length < 50)) {
    samples.push((await sample(batch)) / batch);
  }
  return median(samples);
}

const fmt = (value: number, digits = 2) => value.toFixed(digits).padStart(9);

/**
 * The device's copy bandwidth (bytes read + written per second): on WebGPU the better of
 * copyBufferToBuffer and a plain WGSL copy kernel (one 16-byte load and store per thread; Dawn's
 * buffer copy is not always the fastest path), on the CPU a typed-array copy.
 */
async function copyBandwidth(backend: Backend): Promise<{ gbs: number; detail: string }> {
  // Large enough to stream through any GPU's last-level cache (H100: 50 MB of L2).
  const bytes =
    backend instanceof WebGPUBackend
      ? Math.min(512 * 2 ** 20, backend.maxBindingSize - (backend.maxBindingSize % 4096))
      : 64 * 2 ** 20;
  if (backend instanceof WebGPUBackend) {
    const { device } = backend;
    const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
    const src = device.createBuffer({ size: bytes, usage });
    const dst = device.createBuffer({ size: bytes, usage });
    const submit = (record: (encoder: GPUCommandEncoder) => void) => () => {
      const encoder = device.createCommandEncoder();
      record(encoder);
      device.queue.submit([encoder.finish()]);
      return undefined;
    };
    const bufferCopy = await time(
      backend,
      submit((encoder) => encoder.copyBufferToBuffer(src, 0, dst, 0, bytes)),
    );
    const vec4s = bytes / 16;
    const module = device.createShaderModule({
      code: /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4u>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4u>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + lid;
  if (i < ${vec4s}u) { dst[i] = src[i]; }
}`,
    });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [src, dst].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const groups = vec4s / 256;
    const rows = Math.ceil(groups / 32768);
    const kernelCopy = await time(
      backend,
      submit((encoder) => {
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(Math.ceil(groups / rows), rows);
        pass.end();
      }),
    );
    src.destroy();
    dst.destroy();
    const [viaBuffer, viaKernel] = [bufferCopy, kernelCopy].map((seconds) => (2 * bytes) / seconds / 1e9) as [
      number,
      number,
    ];
    return {
      gbs: Math.max(viaBuffer, viaKernel),
      detail: `copyBufferToBuffer ${viaBuffer.toFixed(1)}, WGSL copy kernel ${viaKernel.toFixed(1)}`,
    };
  }
  if (backend instanceof WasmBackend) {
    // Reading is what a matrix-vector product does with its weight, so that is the yardstick here:
    // D2's readSum (SIMD, eight accumulators) on the backend's own threads.
    const data = fromArray(backend, new Float32Array(bytes / 4).fill(1), [bytes / 4]);
    const sums = zeros(backend, [backend.threads]);
    const seconds = await time(backend, () => {
      backend.runKernel('readSum', [data, bytes, sums], backend.threads);
      return undefined;
    });
    data.dispose();
    sums.dispose();
    return { gbs: bytes / seconds / 1e9, detail: `read only: SIMD readSum kernel on ${backend.threads} threads` };
  }
  const src = new Float32Array(bytes / 4).fill(1);
  const dst = new Float32Array(bytes / 4);
  const seconds = await time(backend, () => {
    dst.set(src);
    return undefined;
  });
  return { gbs: (2 * bytes) / seconds / 1e9, detail: 'Float32Array.set' };
}

/**
 * A [N, K] weight of random values in `dtype`. The 4-6-bit formats quantise 64 rows (ggml's
 * reference quantisers run in JavaScript, seconds per million values) and repeat their blocks.
 */
function randomWeight(backend: Backend, N: number, K: number, dtype: WeightDType) {
  if (!isBlockDType(dtype) || dtype === 'q8_0' || N <= 64) return fromArray(backend, random(N * K, 2), [N, K], dtype);
  const rows = quantizeToGgmlBlocks(dtype, random(64 * K, 2));
  const blocks = new Uint8Array(ggmlBytes(dtype, N * K));
  for (let r = 0; r < N; r += 64) {
    const count = Math.min(64, N - r);
    blocks.set(rows.subarray(0, ggmlBytes(dtype, count * K)), ggmlBytes(dtype, r * K));
  }
  return fromBytes(backend, blocksToStorage(dtype, blocks, N * K), [N, K], dtype);
}

async function benchMatmul(backend: Backend, M: number, N: number, K: number, dtype: WeightDType) {
  const x = fromArray(backend, random(M * K, 1), [M, K]);
  const w = randomWeight(backend, N, K, dtype);
  const seconds = await time(backend, () => matmul(x, w), M > 1 ? 3 : 5);
  const bytes = byteSize(dtype, N * K) + 4 * (M * K + M * N);
  x.dispose();
  w.dispose();
  return { seconds, gflops: (2 * M * N * K) / seconds / 1e9, gbs: bytes / seconds / 1e9 };
}

async function benchAttentionDecode(backend: Backend, positions: number) {
  const heads = 32;
  const kvHeads = 8;
  const headDim = 128;
  const kCache = zeros(backend, [1, positions, kvHeads, headDim]);
  const vCache = zeros(backend, [1, positions, kvHeads, headDim]);
  kvWrite(kCache, fromArray(backend, random(positions * kvHeads * headDim, 3), [1, positions, kvHeads, headDim]), {
    startPos: 0,
  });
  kvWrite(vCache, fromArray(backend, random(positions * kvHeads * headDim, 4), [1, positions, kvHeads, headDim]), {
    startPos: 0,
  });
  const q = fromArray(backend, random(heads * headDim, 5), [1, 1, heads, headDim]);
  const seconds = await time(backend, () => attention(q, kCache, vCache, { startPos: positions - 1 }));
  const bytes = 2 * positions * kvHeads * headDim * 4;
  for (const t of [kCache, vCache, q]) t.dispose();
  return { seconds, gbs: bytes / seconds / 1e9 };
}

/** The baseline the tiled kernel is judged against: one thread per output, no data reuse. */
async function benchNaiveMatmul(backend: WebGPUBackend, M: number, N: number, K: number): Promise<number> {
  const { device } = backend;
  const module = device.createShaderModule({
    code: /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) id: vec3u) {
  let n = id.x; let m = id.y;
  if (m >= ${M}u || n >= ${N}u) { return; }
  var sum = 0.0;
  for (var k = 0u; k < ${K}u; k++) { sum += x[m * ${K}u + k] * w[n * ${K}u + k]; }
  y[m * ${N}u + n] = sum;
}`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
  const buffers = [M * K, N * K, M * N].map((n) => device.createBuffer({ size: n * 4, usage }));
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const seconds = await time(
    backend,
    () => {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(N / 16), Math.ceil(M / 16));
      pass.end();
      device.queue.submit([encoder.finish()]);
      return undefined;
    },
    3,
  );
  for (const buffer of buffers) buffer.destroy();
  return (2 * M * N * K) / seconds / 1e9;
}

async function run(kind: 'cpu' | 'webgpu' | 'wasm') {
  const backend = await createBackend({ kind, log: null, ...(threads ? { threads } : {}) });
  console.log(`\n## ${backend.description}`);
  const { gbs: copy, detail } = await copyBandwidth(backend);
  const bandwidth = backend instanceof WasmBackend ? 'read bandwidth' : 'copy bandwidth (read + write)';
  console.log(`${bandwidth}: ${fmt(copy)} GB/s (${detail})`);

  console.log('\nmatmul, f32 weights        GFLOP/s    ms');
  const shapes: [number, number, number][] = quick
    ? [
        [1, 1024, 1024],
        [64, 1024, 1024],
      ]
    : [
        [1, 4096, 4096],
        [128, 4096, 4096],
        [512, 768, 768],
      ];
  const tiled: Record<string, number> = {};
  for (const [M, N, K] of shapes) {
    const { seconds, gflops } = await benchMatmul(backend, M, N, K, 'f32');
    tiled[`${M},${N},${K}`] = gflops;
    console.log(`${`  (M,N,K) = (${M},${N},${K})`.padEnd(27)}${fmt(gflops)} ${fmt(seconds * 1e3, 1)}`);
  }

  // The issue's shape, and Llama 3 8B's feed-forward shape (a weight matrix several times any L2).
  const vectorShapes: [number, number][] = quick
    ? [[1024, 1024]]
    : [
        [4096, 4096],
        [14336, 4096],
      ];
  for (const [vN, vK] of vectorShapes) {
    console.log(
      `${`\nmatrix-vector (1,${vN},${vK})`.padEnd(28)}   GB/s  of ${backend instanceof WasmBackend ? 'read' : 'copy'} bw    ms`,
    );
    for (const dtype of WEIGHT_DTYPES) {
      const { seconds, gbs } = await benchMatmul(backend, 1, vN, vK, dtype);
      console.log(`  ${dtype.padEnd(24)}${fmt(gbs)} ${fmt((100 * gbs) / copy, 0)} % ${fmt(seconds * 1e3, 2)}`);
    }
  }

  const positions = quick ? 512 : 2048;
  const decode = await benchAttentionDecode(backend, positions);
  console.log(
    `\nattention decode, ${positions} cached positions, 32 heads / 8 kv heads, head_dim 128: ` +
      `${(decode.seconds * 1e3).toFixed(2)} ms, KV read ${decode.gbs.toFixed(2)} GB/s`,
  );

  if (backend instanceof WebGPUBackend) {
    const [M, N, K] = shapes[1] as [number, number, number];
    const naive = await benchNaiveMatmul(backend, M, N, K);
    const ratio = (tiled[`${M},${N},${K}`] as number) / naive;
    console.log(
      `\nprefill (${M},${N},${K}): tiled ${fmt(tiled[`${M},${N},${K}`] as number)} vs naive ${fmt(naive)} GFLOP/s: ${ratio.toFixed(2)}x (goal on a real GPU: >= 5x)`,
    );
  }
  backend.destroy();
}

for (const kind of ['cpu', 'wasm', 'webgpu'] as const) {
  if (!only || only === kind) await run(kind);
}

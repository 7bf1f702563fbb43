/**
 * Roofline figures for both backends: matmul GFLOP/s, matrix-vector GB/s per weight dtype beside
 * the device's own copy bandwidth, attention decode over 2048 cached positions, and (WebGPU) the
 * tiled prefill matmul against a naive one-thread-per-output kernel.
 *
 * Run: pnpm --filter @llama-ts/kernels bench [-- --backend cpu|webgpu] [-- --quick]
 */
import {
  attention,
  type Backend,
  byteSize,
  createBackend,
  fromArray,
  kvWrite,
  matmul,
  type Tensor,
  WebGPUBackend,
  type WeightDType,
  zeros,
} from '../src/node.js';

const args = process.argv.slice(2);
const only = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : undefined;
const quick = args.includes('--quick');

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

/** Median seconds of `run` (recorded work plus a synchronize), after one warm-up; at least `reps` runs or 1 s. */
async function time(backend: Backend, run: () => Tensor | undefined, reps = 5): Promise<number> {
  run()?.dispose();
  await backend.synchronize();
  const samples: number[] = [];
  const deadline = performance.now() + 1000;
  while (samples.length < reps || (performance.now() < deadline && samples.length < 50)) {
    const start = performance.now();
    const out = run();
    await backend.synchronize();
    samples.push((performance.now() - start) / 1e3);
    out?.dispose();
  }
  return median(samples);
}

const fmt = (value: number, digits = 2) => value.toFixed(digits).padStart(9);

async function copyBandwidth(backend: Backend): Promise<number> {
  const bytes = 64 * 2 ** 20;
  if (backend instanceof WebGPUBackend) {
    const { device } = backend;
    const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE;
    const src = device.createBuffer({ size: bytes, usage });
    const dst = device.createBuffer({ size: bytes, usage });
    const seconds = await time(backend, () => {
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
      device.queue.submit([encoder.finish()]);
      return undefined;
    });
    src.destroy();
    dst.destroy();
    return (2 * bytes) / seconds / 1e9; // read + write
  }
  const src = new Float32Array(bytes / 4).fill(1);
  const dst = new Float32Array(bytes / 4);
  const seconds = await time(backend, () => {
    dst.set(src);
    return undefined;
  });
  return (2 * bytes) / seconds / 1e9;
}

async function benchMatmul(backend: Backend, M: number, N: number, K: number, dtype: WeightDType) {
  const x = fromArray(backend, random(M * K, 1), [M, K]);
  const w = fromArray(backend, random(N * K, 2), [N, K], dtype);
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

async function run(kind: 'cpu' | 'webgpu') {
  const backend = await createBackend({ kind, log: null });
  console.log(`\n## ${backend.description}`);
  const copy = await copyBandwidth(backend);
  console.log(`copy bandwidth (read + write): ${fmt(copy)} GB/s`);

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

  const [vN, vK] = quick ? [1024, 1024] : [4096, 4096];
  console.log(`\nmatrix-vector (1,${vN},${vK})   GB/s  of copy bw    ms`);
  for (const dtype of ['f32', 'f16', 'q8_0'] as const) {
    const { seconds, gbs } = await benchMatmul(backend, 1, vN, vK, dtype);
    console.log(`  ${dtype.padEnd(24)}${fmt(gbs)} ${fmt((100 * gbs) / copy, 0)} % ${fmt(seconds * 1e3, 1)}`);
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

for (const kind of ['cpu', 'webgpu'] as const) {
  if (!only || only === kind) await run(kind);
}

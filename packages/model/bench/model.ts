/**
 * llama-bench-style figures for the Transformer on each backend, on a random Llama-3-style 110M
 * checkpoint (dim 768, 12 layers, 12 heads, 4 kv heads, vocab 32000, bf16) written once to the
 * temp folder: load GB/s with peak RSS, prefill tokens/s (pp) and decode tokens/s (tg), medians.
 *
 * Run: pnpm --filter @llama-ts/model bench [-- -p 512 -n 128 -r 5 --backend cpu|webgpu]
 */
import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '@llama-ts/kernels';
import { loadModel, META_PARAMS_FILE, metaShardFile, type PthTensorToWrite, writePthCheckpoint } from '../src/index.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const prefillTokens = flag('-p', 512);
const decodeTokens = flag('-n', 128);
const reps = flag('-r', 5);
const only = process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : undefined;

const PARAMS = {
  dim: 768,
  n_layers: 12,
  n_heads: 12,
  n_kv_heads: 4,
  vocab_size: 32000,
  multiple_of: 256,
  norm_eps: 1e-5,
  rope_theta: 500000,
};
const DIR = join(tmpdir(), 'llama-ts-bench-110m');

/** bf16 bits of small random values (a fixed xorshift stream), as Meta checkpoints store them. */
function randomBf16(count: number, seed: number, scale: number): Uint8Array {
  const bits = new Uint16Array(count);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    f32[0] = ((s >>> 0) / 2 ** 32 - 0.5) * scale;
    bits[i] = (u32[0] as number) >>> 16;
  }
  return new Uint8Array(bits.buffer);
}

async function writeCheckpoint(): Promise<void> {
  if (existsSync(join(DIR, metaShardFile(0)))) return;
  await mkdir(DIR, { recursive: true });
  const { dim, n_layers, n_heads, n_kv_heads, vocab_size } = PARAMS;
  const headDim = dim / n_heads;
  const hidden = 2048; // int(2 * 4 * 768 / 3) rounded up to a multiple of 256
  const shapes: [string, number[]][] = [['tok_embeddings.weight', [vocab_size, dim]]];
  for (let i = 0; i < n_layers; i++) {
    shapes.push(
      [`layers.${i}.attention_norm.weight`, [dim]],
      [`layers.${i}.attention.wq.weight`, [n_heads * headDim, dim]],
      [`layers.${i}.attention.wk.weight`, [n_kv_heads * headDim, dim]],
      [`layers.${i}.attention.wv.weight`, [n_kv_heads * headDim, dim]],
      [`layers.${i}.attention.wo.weight`, [dim, n_heads * headDim]],
      [`layers.${i}.ffn_norm.weight`, [dim]],
      [`layers.${i}.feed_forward.w1.weight`, [hidden, dim]],
      [`layers.${i}.feed_forward.w2.weight`, [dim, hidden]],
      [`layers.${i}.feed_forward.w3.weight`, [hidden, dim]],
    );
  }
  shapes.push(['norm.weight', [dim]], ['output.weight', [vocab_size, dim]]);
  const tensors: PthTensorToWrite[] = shapes.map(([name, shape], i) => ({
    name,
    shape,
    dtype: 'bf16',
    data: randomBf16(
      shape.reduce((a, b) => a * b, 1),
      i + 1,
      shape.length === 1 ? 0 : 0.1,
    ),
  }));
  for (const t of tensors) if (t.shape.length === 1) new Uint16Array(t.data.buffer).fill(0x3f80); // norms = 1
  await writePthCheckpoint(join(DIR, metaShardFile(0)), tensors);
  await writeFile(join(DIR, META_PARAMS_FILE), JSON.stringify(PARAMS));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

async function run(kind: 'cpu' | 'webgpu'): Promise<void> {
  const backend = await createBackend({ kind, log: null });
  const size = (await stat(join(DIR, metaShardFile(0)))).size;
  const rssBefore = process.memoryUsage().rss;
  const loadStart = performance.now();
  const model = await loadModel(DIR, { backend, maxSeqLen: prefillTokens + decodeTokens + 8 });
  await backend.synchronize();
  const loadSeconds = (performance.now() - loadStart) / 1e3;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const prompt = Array.from({ length: prefillTokens }, (_, i) => (i * 7919) % PARAMS.vocab_size);

  const pp: number[] = [];
  const tg: number[] = [];
  for (let r = 0; r < reps; r++) {
    let start = performance.now();
    await model.forward([prompt], 0);
    pp.push(prefillTokens / ((performance.now() - start) / 1e3));
    start = performance.now();
    for (let t = 0; t < decodeTokens; t++) await model.forward([[(t * 31) % PARAMS.vocab_size]], 1 + t);
    tg.push(decodeTokens / ((performance.now() - start) / 1e3));
  }
  console.log(`\n## ${backend.description}`);
  console.log(
    `load: ${mib(size)} checkpoint (bf16 → f16) in ${loadSeconds.toFixed(2)} s = ${(size / loadSeconds / 1e9).toFixed(2)} GB/s; RSS ${mib(rssBefore)} before, peak ${mib(peakRss)} (process-wide max)`,
  );
  console.log('| test | tokens/s (median of %d) |', reps);
  console.log('|---|---|');
  console.log(`| pp${prefillTokens} | ${median(pp).toFixed(2)} |`);
  console.log(`| tg${decodeTokens} | ${median(tg).toFixed(2)} |`);
  model.dispose();
  backend.destroy();
}

await writeCheckpoint();
console.log(`checkpoint: ${DIR} (110M parameters, bf16); pp${prefillTokens} tg${decodeTokens}, ${reps} reps`);
for (const kind of ['cpu', 'webgpu'] as const) if (!only || only === kind) await run(kind);

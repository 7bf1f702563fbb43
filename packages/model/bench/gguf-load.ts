/**
 * Load benchmark (issue 14): a Llama-3.2-1B-shaped GGUF mixed as llama.cpp's Q4_K_M is (Q4_K, with
 * Q6_K for the tied token_embd/output and for attn_v and ffn_down in the layers llama-quant.cpp's
 * use_more_bits picks), written once to the temp folder by our writer; then the disk's read speed
 * (a plain stream over another file of the same size, written just before, so both are equally
 * cached) against our load time and peak RSS, each load in a fresh child process on the wasm
 * backend (the default CPU backend). Goals: load ≥ 50 % of the stream's speed, peak RSS ≤ 1.3x the
 * file size.
 *
 * Run: pnpm --filter @llama-ts/model bench:load [-- -r 3]
 */
import { fork } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quantizeToGgmlBlocks } from '@llama-ts/kernels';
import { type GGUFTensorToWrite, ggufValue, loadModel, writeGGUF } from '../src/index.js';

const CHILD = '--child';
const reps = process.argv.includes('-r') ? Number(process.argv[process.argv.indexOf('-r') + 1]) : 3;

// Llama 3.2 1B: dim 2048, 16 layers, 32 heads / 8 kv heads, ffn 8192, vocab 128256, tied embeddings.
const P = { dim: 2048, nLayers: 16, nHeads: 32, nKvHeads: 8, ffn: 8192, vocab: 128256 };
const FILE = join(tmpdir(), 'llama-ts-bench-1b-q4_k_m.gguf');
const SAME_SIZE = join(tmpdir(), 'llama-ts-bench-1b-same-size.bin');

/** llama-quant.cpp's use_more_bits: the first and last eighth of the layers and every third between. */
const useMoreBits = (layer: number, layers: number) =>
  layer < layers / 8 || layer >= (7 * layers) / 8 || (layer - Math.trunc(layers / 8)) % 3 === 2;

/**
 * A [rows, cols] tensor of `type` whose blocks are 16 quantised random rows repeated: real blocks
 * (what load checks and uploads), without quantising a billion values. Equal shapes share bytes.
 */
const tiles = new Map<string, Uint8Array>();
function tiled(type: 'Q4_K' | 'Q6_K', rows: number, cols: number): Uint8Array {
  const key = `${type} ${rows} ${cols}`;
  const cached = tiles.get(key);
  if (cached) return cached;
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const tileRows = 16;
  const tile = quantizeToGgmlBlocks(
    type === 'Q4_K' ? 'q4_k' : 'q6_k',
    Float32Array.from({ length: tileRows * cols }, () => random() * 0.05),
  );
  const data = new Uint8Array((tile.length / tileRows) * rows);
  for (let at = 0; at < data.length; at += tile.length) data.set(tile.subarray(0, data.length - at), at);
  tiles.set(key, data);
  return data;
}

async function writeModel(): Promise<void> {
  if (existsSync(FILE)) return;
  const headDim = P.dim / P.nHeads;
  const norm = new Uint8Array(new Float32Array(P.dim).fill(1).buffer);
  const tensors: GGUFTensorToWrite[] = [
    { name: 'token_embd.weight', shape: [P.vocab, P.dim], type: 'Q6_K', data: tiled('Q6_K', P.vocab, P.dim) },
  ];
  for (let i = 0; i < P.nLayers; i++) {
    const more = useMoreBits(i, P.nLayers) ? 'Q6_K' : 'Q4_K';
    const matrix = (name: string, rows: number, cols: number, type: 'Q4_K' | 'Q6_K' = 'Q4_K') =>
      tensors.push({ name: `blk.${i}.${name}.weight`, shape: [rows, cols], type, data: tiled(type, rows, cols) });
    tensors.push({ name: `blk.${i}.attn_norm.weight`, shape: [P.dim], type: 'F32', data: norm });
    matrix('attn_q', P.nHeads * headDim, P.dim);
    matrix('attn_k', P.nKvHeads * headDim, P.dim);
    matrix('attn_v', P.nKvHeads * headDim, P.dim, more);
    matrix('attn_output', P.dim, P.nHeads * headDim);
    tensors.push({ name: `blk.${i}.ffn_norm.weight`, shape: [P.dim], type: 'F32', data: norm });
    matrix('ffn_gate', P.ffn, P.dim);
    matrix('ffn_up', P.ffn, P.dim);
    matrix('ffn_down', P.dim, P.ffn, more);
  }
  tensors.push({ name: 'output_norm.weight', shape: [P.dim], type: 'F32', data: norm });
  await writeGGUF(FILE, {
    metadata: {
      'general.architecture': ggufValue.string('llama'),
      'general.name': ggufValue.string('1B-shaped Q4_K_M (random)'),
      'llama.vocab_size': ggufValue.u32(P.vocab),
      'llama.context_length': ggufValue.u32(131072),
      'llama.embedding_length': ggufValue.u32(P.dim),
      'llama.block_count': ggufValue.u32(P.nLayers),
      'llama.feed_forward_length': ggufValue.u32(P.ffn),
      'llama.attention.head_count': ggufValue.u32(P.nHeads),
      'llama.attention.head_count_kv': ggufValue.u32(P.nKvHeads),
      'llama.rope.freq_base': ggufValue.f32(500000),
      'llama.attention.layer_norm_rms_epsilon': ggufValue.f32(1e-5),
      'llama.rope.dimension_count': ggufValue.u32(headDim),
      'general.file_type': ggufValue.u32(15), // LLAMA_FTYPE_MOSTLY_Q4_K_M
    },
    tensors,
  });
}

/** A file of `bytes` bytes (not sparse: every block written). */
async function writeSameSize(bytes: number): Promise<void> {
  if (existsSync(SAME_SIZE) && (await stat(SAME_SIZE)).size === bytes) return;
  const handle = await open(SAME_SIZE, 'w');
  const chunk = new Uint8Array(8 << 20).map((_, i) => (i * 2654435761) >>> 24);
  for (let at = 0; at < bytes; at += chunk.length) {
    await handle.write(chunk, 0, Math.min(chunk.length, bytes - at), at);
  }
  await handle.close();
}

/** Seconds to read `path` once with a plain stream. */
async function streamSeconds(path: string): Promise<number> {
  const start = performance.now();
  for await (const _ of createReadStream(path, { highWaterMark: 8 << 20 })) {
    // only reading
  }
  return (performance.now() - start) / 1e3;
}

interface ChildResult {
  seconds: number;
  maxRssBytes: number;
  rssBeforeBytes: number;
}

/** One load in a fresh process (so its peak RSS is the load's): wasm backend, a short KV cache. */
async function childLoad(): Promise<void> {
  const rssBeforeBytes = process.memoryUsage().rss;
  const start = performance.now();
  const model = await loadModel(FILE, { backend: 'wasm', maxSeqLen: 256 });
  const seconds = (performance.now() - start) / 1e3;
  const result: ChildResult = { seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024, rssBeforeBytes };
  model.dispose();
  process.send?.(result);
}

function loadInChild(): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = fork(process.argv[1] as string, [CHILD], { stdio: 'inherit' });
    let result: ChildResult | undefined;
    child.on('message', (message) => {
      result = message as ChildResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`load child exited with ${code}`))));
  });
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

if (process.argv.includes(CHILD)) {
  await childLoad();
} else {
  await writeModel();
  const size = (await stat(FILE)).size;
  await writeSameSize(size);
  const disk: number[] = [];
  const loads: ChildResult[] = [];
  for (let r = 0; r < reps; r++) {
    disk.push(size / (await streamSeconds(SAME_SIZE)));
    loads.push(await loadInChild());
  }
  const diskSpeed = median(disk);
  const loadSpeed = median(loads.map((l) => size / l.seconds));
  const peak = Math.max(...loads.map((l) => l.maxRssBytes));
  console.log(`file: ${FILE}, ${mb(size)} (Q4_K + Q6_K as Q4_K_M, 1B-shaped); ${reps} reps, medians`);
  console.log('| figure | value | goal |');
  console.log('|---|---|---|');
  console.log(`| disk (plain stream, same-size file) | ${(diskSpeed / 1e9).toFixed(2)} GB/s | |`);
  console.log(
    `| load (wasm backend) | ${(loadSpeed / 1e9).toFixed(2)} GB/s = ${((100 * loadSpeed) / diskSpeed).toFixed(0)} % of disk | ≥ 50 % |`,
  );
  console.log(
    `| peak RSS | ${mb(peak)} = ${(peak / size).toFixed(2)}x the file (before loading: ${mb(loads[0]?.rssBeforeBytes ?? 0)}) | ≤ 1.3x |`,
  );
}

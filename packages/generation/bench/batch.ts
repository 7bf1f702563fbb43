/**
 * Continuous batching throughput: aggregate decode tokens/s of BatchEngine at 1, 4, 8 and 16
 * concurrent greedy streams (issue 16's goal: 8 streams ≥ 4x one), on a 110M Llama-3-shaped model
 * (dim 768, 12 layers, 12 / 4 heads, ffn 2048, vocab 32000) stored as q8_0 on the wasm backend.
 *
 * Run: pnpm --filter @llama-ts/generation bench [-- --model DIR] [-- -p 16 -n 32 --streams 1,4,8,16
 * --backend wasm|cpu|webgpu --threads N --weight-storage q8_0]. Without --model, random weights of that
 * shape are written once to the temp folder.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackendChoice, createBackend } from '@llama-ts/kernels';
import { loadModel, META_PARAMS_FILE, metaShardFile, type WeightStorage, writePthCheckpoint } from '@llama-ts/model';
import { randomLlamaTensors } from '@llama-ts/test-support';
import { BatchEngine, type BatchStream } from '../src/index.js';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const promptTokens = Number(option('-p') ?? 16);
const genTokens = Number(option('-n') ?? 32);
const streamCounts = (option('--streams') ?? '1,4,8,16').split(',').map(Number);
const backendKind = (option('--backend') ?? 'wasm') as BackendChoice;
const threads = option('--threads') === undefined ? undefined : Number(option('--threads'));
const weightStorage = (option('--weight-storage') ?? 'q8_0') as WeightStorage;

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

/** A random 110M checkpoint (f32) in the temp folder, written once. */
async function randomCheckpoint(): Promise<string> {
  const dir = join(tmpdir(), 'llama-ts-bench-batch-110m');
  if (existsSync(join(dir, META_PARAMS_FILE))) return dir;
  await mkdir(dir, { recursive: true });
  const tensors = randomLlamaTensors({
    dim: 768,
    nLayers: 12,
    nHeads: 12,
    nKvHeads: 4,
    vocabSize: 32000,
    ffnHiddenDim: 2048,
  });
  await writePthCheckpoint(
    join(dir, metaShardFile(0)),
    tensors.map(({ name, shape, values }) => ({
      name,
      shape,
      dtype: 'f32' as const,
      data: new Uint8Array(values.buffer),
    })),
  );
  await writeFile(join(dir, META_PARAMS_FILE), JSON.stringify(PARAMS));
  return dir;
}

const maxStreams = Math.max(...streamCounts);
const dir = option('--model') ?? (await randomCheckpoint());
const backend = await createBackend({ kind: backendKind, ...(threads ? { threads } : {}) });
const model = await loadModel(dir, {
  backend,
  weightStorage,
  maxBatchSize: maxStreams,
  maxSeqLen: promptTokens + genTokens + 8,
});
console.log(
  `${dir}: ${backend.description}, ${weightStorage}, prompts of ${promptTokens}, ${genTokens} tokens per stream`,
);
const engine = new BatchEngine({ model, parallel: maxStreams, queueLimit: maxStreams });

/** Aggregate decode tokens/s once every stream has its first token, until all are done. */
async function measure(streams: number, round: number): Promise<{ aggregate: number; perStream: number }> {
  const handles: BatchStream[] = [];
  for (let s = 0; s < streams; s++) {
    // Distinct prompts (no prefix reuse between rounds or streams).
    const prompt = Array.from(
      { length: promptTokens },
      (_, t) => (round * 7919 + s * 104729 + t * 31) % model.args.vocabSize,
    );
    handles.push(engine.submit({ prompt, temperature: 0, maxGenLen: genTokens }));
  }
  const arrivals: number[][] = handles.map(() => []);
  await Promise.all(
    handles.map(async (handle, s) => {
      for await (const _ of handle) (arrivals[s] as number[]).push(performance.now());
    }),
  );
  const start = Math.max(...arrivals.map((times) => times[0] as number));
  const end = Math.max(...arrivals.map((times) => times.at(-1) as number));
  const decoded = arrivals.reduce((sum, times) => sum + times.filter((t) => t > start).length, 0);
  const aggregate = decoded / ((end - start) / 1e3);
  return { aggregate, perStream: aggregate / streams };
}

await measure(1, 0); // warm-up
const rows: { streams: number; aggregate: number; perStream: number }[] = [];
for (const [i, streams] of streamCounts.entries()) rows.push({ streams, ...(await measure(streams, i + 1)) });
const base = rows[0]?.aggregate ?? 1;
console.log('| streams | aggregate decode tok/s | per stream tok/s | vs 1 stream |');
console.log('| ------- | ---------------------- | ---------------- | ----------- |');
for (const r of rows) {
  console.log(
    `| ${r.streams} | ${r.aggregate.toFixed(1)} | ${r.perStream.toFixed(1)} | ${(r.aggregate / base).toFixed(2)}x |`,
  );
}
model.dispose();
backend.destroy();

// Loading whole models: sharded checkpoints equal the unsplit one, and a broken checkpoint is a
// clear error naming the tensor and file (missing, mis-shaped, non-finite), never a wrong model.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, createBackend } from '@llama-ts/kernels';
import { readSharedJson, sharedPath } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CheckpointTensor,
  type LoadProgress,
  loadModel,
  ModelError,
  openPthCheckpoint,
  type PthTensorToWrite,
  writePthCheckpoint,
} from '../src/index.js';
import { writeShardedCheckpoint } from './shards.js';

const goldenDir = sharedPath('golden', 'tiny-meta-bf16');
const params = readSharedJson<Record<string, unknown>>('golden', 'tiny-meta-bf16', 'params.json');
const prompt = readSharedJson<{ tokens: number[] }>('golden', 'tiny-meta-bf16', 'expected.json').tokens;

let backend: Backend;
/** The wasm backend on 2 threads, every op split (the shards and weight storage run on it too). */
let wasm: Backend;
let golden: PthTensorToWrite[];
let goldenLogits: Float32Array;
let scratch: string;

async function readTensors(path: string): Promise<PthTensorToWrite[]> {
  const reader = await openPthCheckpoint([path]);
  try {
    const read = async (t: CheckpointTensor) => ({
      name: t.name,
      shape: t.shape,
      dtype: t.dtype,
      data: await t.read(),
    });
    return await Promise.all(reader.tensors.map(read));
  } finally {
    await reader.close();
  }
}

/** A checkpoint folder holding `tensors` and the golden params.json. */
async function checkpoint(name: string, tensors: PthTensorToWrite[], paramsJson: unknown = params): Promise<string> {
  const dir = await mkdtemp(join(scratch, `${name}-`));
  await writeFile(join(dir, 'params.json'), JSON.stringify(paramsJson));
  await writePthCheckpoint(join(dir, 'consolidated.00.pth'), tensors);
  return dir;
}

async function logitsOf(dir: string, on = backend): Promise<Float32Array> {
  const model = await loadModel(dir, { backend: on, maxSeqLen: 32 });
  try {
    return await model.forward([prompt], 0, { logits: 'all' });
  } finally {
    model.dispose();
  }
}

beforeAll(async () => {
  backend = await createBackend({ kind: 'cpu' });
  wasm = await createBackend({ kind: 'wasm', threads: 2, minWorkPerThread: 1, log: null });
  scratch = await mkdtemp(join(tmpdir(), 'llama-ts-model-'));
  golden = await readTensors(join(goldenDir, 'consolidated.00.pth'));
  goldenLogits = await logitsOf(goldenDir);
});

afterAll(() => {
  backend.destroy();
  wasm.destroy();
});

describe('model-parallel shards', () => {
  it.each([2, 4])('a checkpoint split into %i shards gives the same logits as the unsplit one', async (ranks) => {
    const dir = await mkdtemp(join(scratch, `shards-${ranks}-`));
    await writeShardedCheckpoint(dir, golden, ranks, params);
    expect(await logitsOf(dir)).toEqual(goldenLogits);
  });

  it('does so on the wasm backend (2 threads) too', async () => {
    const dir = await mkdtemp(join(scratch, 'shards-wasm-'));
    await writeShardedCheckpoint(dir, golden, 2, params);
    expect(await logitsOf(dir, wasm)).toEqual(await logitsOf(goldenDir, wasm));
  });
});

describe('loading', () => {
  it('reports progress in bytes up to the total', async () => {
    const events: LoadProgress[] = [];
    const model = await loadModel(goldenDir, { backend, maxSeqLen: 32, onProgress: (p) => events.push(p) });
    model.dispose();
    expect(events).toHaveLength(golden.length);
    const total = golden.reduce((sum, t) => sum + t.data.byteLength, 0);
    expect(events.at(-1)).toMatchObject({ loadedBytes: total, totalBytes: total });
    expect(events.map((e) => e.loadedBytes)).toEqual([...events.map((e) => e.loadedBytes)].sort((a, b) => a - b));
  });

  it.each(['cpu', 'wasm'])('stores weights as asked (on %s)', async (on) => {
    const expected = readSharedJson<{ prompt_logprobs: number[] }>('golden', 'tiny-meta-bf16', 'expected.json');
    // bf16 → f32 is exact, so f32 storage meets the golden tolerance as f16 does. q8_0 rounds each
    // weight to 1/254 of its block's largest: measured 0.20 max log-prob error on this model,
    // whose weights are scaled for sharp preferences; bounded here at 0.3.
    for (const [weightStorage, tolerance] of [
      ['f32', 0.02],
      ['q8_0', 0.3],
    ] as const) {
      const model = await loadModel(goldenDir, {
        backend: on === 'cpu' ? backend : wasm,
        maxSeqLen: 32,
        weightStorage,
      });
      const logits = await model.forward([prompt], 0, { logits: 'all' });
      model.dispose();
      const vocab = 512;
      for (let t = 0; t < prompt.length - 1; t++) {
        const row = logits.subarray(t * vocab, (t + 1) * vocab);
        const max = Math.max(...row);
        const logSum = Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0)) + max;
        const logProb = (row[prompt[t + 1] as number] as number) - logSum;
        expect(
          Math.abs(logProb - (expected.prompt_logprobs[t] as number)),
          `${weightStorage} position ${t}`,
        ).toBeLessThan(tolerance);
      }
    }
  });
});

describe('broken checkpoints', () => {
  it('names a missing tensor', async () => {
    const dir = await checkpoint(
      'missing',
      golden.filter((t) => t.name !== 'layers.1.feed_forward.w2.weight'),
    );
    await expect(logitsOf(dir)).rejects.toThrow('tensor layers.1.feed_forward.w2.weight [64, 224] is missing');
  });

  it('names a tensor with the wrong shape, and its file', async () => {
    const tensors = golden.map((t) =>
      t.name === 'layers.0.attention.wk.weight' ? { ...t, shape: [16, 128], data: t.data } : t,
    );
    const dir = await checkpoint('shape', tensors);
    await expect(logitsOf(dir)).rejects.toThrow(
      /tensor layers\.0\.attention\.wk\.weight in .*consolidated\.00\.pth has shape \[16, 128\], expected \[32, 64\]/,
    );
  });

  it('names an unexpected tensor', async () => {
    const extra = { ...(golden[1] as PthTensorToWrite), name: 'layers.5.attention.wq.weight' };
    const dir = await checkpoint('extra', [...golden, extra]);
    await expect(logitsOf(dir)).rejects.toThrow(
      /tensor layers\.5\.attention\.wq\.weight in .* is not part of a Llama model/,
    );
  });

  it('names a weight holding NaN or infinity', async () => {
    const tensors = golden.map((t) => {
      if (t.name !== 'layers.1.attention.wo.weight') return t;
      const data = t.data.slice();
      data.set([0xc0, 0x7f], 2 * 77); // bf16 NaN at element 77
      return { ...t, data };
    });
    const dir = await checkpoint('nan', tensors);
    await expect(logitsOf(dir)).rejects.toThrow(
      /tensor layers\.1\.attention\.wo\.weight in .* holds NaN at element 77/,
    );
  });

  it('refuses a finite bf16 weight that f16 (the default for bf16) or q8_0 cannot hold, naming tensor, element and type', async () => {
    const withValue = (bits: [number, number]) =>
      golden.map((t) => {
        if (t.name !== 'layers.0.feed_forward.w1.weight') return t;
        const data = t.data.slice();
        data.set(bits, 2 * 5); // little-endian bf16 bits at element 5
        return { ...t, data };
      });
    const big = await checkpoint('f16-overflow', withValue([0x80, 0x47])); // 65536: above f16's 65504
    await expect(loadModel(big, { backend, maxSeqLen: 32 })).rejects.toThrow(
      /^tensor layers\.0\.feed_forward\.w1\.weight in .*consolidated\.00\.pth holds 65536 at element 5, which f16 storage cannot hold \(f16's largest finite value is 65504\); load it with weightStorage 'f32'/,
    );
    const model = await loadModel(big, { backend, maxSeqLen: 32, weightStorage: 'f32' });
    const logits = await model.forward([prompt], 0);
    model.dispose();
    expect(logits.every(Number.isFinite)).toBe(true);
    const huge = await checkpoint('q8-overflow', withValue([0x80, 0x4b])); // 2^24: q8_0's f16 scale overflows
    await expect(loadModel(huge, { backend, maxSeqLen: 32, weightStorage: 'q8_0' })).rejects.toThrow(
      /holds 16777216 at element 5, which q8_0 storage cannot hold/,
    );
  });

  it('checks absurd sizes against the memory they would need before allocating anything', async () => {
    const layers = await checkpoint('layers', golden, { ...params, n_layers: 1e9 });
    await expect(loadModel(layers, { backend, maxSeqLen: 32 })).rejects.toThrow(
      /^.*params\.json: the model needs [\d.]+ TiB \(weights [\d.]+ TiB at least f16, .*\) but this machine's memory holds at most [\d.]+ GiB; n_layers 1000000000 × dim 64 \(ffn \d+\) make [\d.]+ TiB of weights even as q8_0$/,
    );
    const vocab = await checkpoint('vocab', golden, { ...params, vocab_size: 1e12 });
    await expect(loadModel(vocab, { backend, maxSeqLen: 32 })).rejects.toThrow(
      /params\.json: the model needs .*; vocab_size 1000000000000 \(with dim 64\) makes [\d.]+ TiB of weights/,
    );
    const dim = await checkpoint('dim', golden, { ...params, dim: 2 ** 40 });
    await expect(loadModel(dim, { backend, maxSeqLen: 32 })).rejects.toThrow(
      /params\.json: the model needs .*; n_layers 2 × dim 1099511627776 \(ffn \d+\) make/,
    );
    for (const sizes of [{ maxSeqLen: 1e12 }, { maxSeqLen: 32, maxBatchSize: 1e12 }]) {
      await expect(loadModel(goldenDir, { backend, ...sizes })).rejects.toThrow(
        /params\.json: the model needs [\d.]+ [PT]iB .*; a KV cache of maxSeqLen \d+ \(max_seq_len or --max-seq-len\) × maxBatchSize \d+ \(--max-batch-size\) positions alone needs [\d.]+ [PT]iB .*; use a smaller --max-seq-len or --max-batch-size$/,
      );
    }
    const wasm = { kind: 'wasm', capacityBytes: 2 ** 32 } as const;
    const { memoryLimit } = await import('../src/footprint.js');
    expect(memoryLimit(wasm)).toEqual({ bytes: 2 ** 32, what: 'the wasm backend' });
  });

  it('names a truncated file', async () => {
    const dir = await mkdtemp(join(scratch, 'truncated-'));
    await writeFile(join(dir, 'params.json'), JSON.stringify(params));
    const bytes = await readFile(join(goldenDir, 'consolidated.00.pth'));
    await writeFile(join(dir, 'consolidated.00.pth'), bytes.subarray(0, bytes.length - 5000));
    await expect(logitsOf(dir)).rejects.toThrow(ModelError);
    await expect(logitsOf(dir)).rejects.toThrow(/consolidated\.00\.pth/);
  });

  it('names parameters that contradict the weights', async () => {
    const dir = await checkpoint('params', golden, { ...params, n_kv_heads: 4 });
    await expect(logitsOf(dir)).rejects.toThrow(
      /tensor layers\.0\.attention\.wk\.weight .* has shape \[32, 64\], expected \[64, 64\]/,
    );
  });

  it('says what a folder lacks', async () => {
    const empty = await mkdtemp(join(scratch, 'empty-'));
    await expect(logitsOf(empty)).rejects.toThrow(/holds neither params\.json \(a Meta checkpoint\) nor config\.json/);
    await expect(logitsOf(join(scratch, 'nope'))).rejects.toThrow(/does not exist or is not a folder/);
  });
});

// The KV cache and batching change nothing: decoding token by token equals a full recompute, and a
// ragged-free batch equals its sequences run one by one (on every backend: cpu, webgpu, wasm on 1, 2
// and 3 threads).
import { createBackend } from '@llama-ts/kernels';
import {
  backendPool,
  MODEL_TEST_BACKENDS,
  modelTestFactories,
  readSharedJson,
  sharedPath,
} from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, ModelError, type Transformer } from '../src/index.js';

/** f32 logits of the same computation in another order of operations (cache vs recompute). */
const LOGIT_ATOL = 1e-3;

const tokens = readSharedJson<{ tokens: number[] }>('golden', 'tiny-meta-bf16', 'expected.json').tokens;
const backends = backendPool(modelTestFactories(createBackend));
const models = new Map<string, Transformer>();

beforeAll(async () => {
  await backends.setUp(MODEL_TEST_BACKENDS);
  for (const name of MODEL_TEST_BACKENDS) {
    const backend = backends.find(name);
    if (!backend) continue;
    models.set(
      name,
      await loadModel(sharedPath('golden', 'tiny-meta-bf16'), { backend, maxSeqLen: 48, maxBatchSize: 3 }),
    );
  }
});

afterAll(() => {
  for (const model of models.values()) model.dispose();
  backends.tearDown();
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe.each(MODEL_TEST_BACKENDS)('on %s', (name) => {
  it('decoding with the cache equals a full recompute', async (context) => {
    const model = models.get(name);
    if (!model) return context.skip(backends.whyUnavailable(name));
    const full = await model.forward([tokens], 0, { logits: 'all' });
    const vocab = model.args.vocabSize;
    // Prefill 10, then one token at a time.
    const prefill = await model.forward([tokens.slice(0, 10)], 0);
    expect(maxDiff(prefill, full.subarray(9 * vocab, 10 * vocab))).toBeLessThanOrEqual(LOGIT_ATOL);
    for (let t = 10; t < tokens.length; t++) {
      const step = await model.forward([[tokens[t] as number]], t);
      expect(maxDiff(step, full.subarray(t * vocab, (t + 1) * vocab)), `position ${t}`).toBeLessThanOrEqual(LOGIT_ATOL);
    }
  });

  it('a batch equals its sequences one by one', async (context) => {
    const model = models.get(name);
    if (!model) return context.skip(backends.whyUnavailable(name));
    const rows = [tokens.slice(0, 12), tokens.slice(12, 24), tokens.slice(5, 17)];
    const batched = await model.forward(rows, 0, { logits: 'all' });
    // Continuing the batch one token per sequence uses each sequence's own cache slot.
    const next = await model.forward(
      rows.map((row) => [row[0] as number]),
      12,
    );
    const vocab = model.args.vocabSize;
    for (let b = 0; b < rows.length; b++) {
      const alone = await model.forward([rows[b] as number[]], 0, { logits: 'all' });
      expect(
        maxDiff(alone, batched.subarray(b * 12 * vocab, (b + 1) * 12 * vocab)),
        `sequence ${b}`,
      ).toBeLessThanOrEqual(LOGIT_ATOL);
    }
    for (let b = 0; b < rows.length; b++) {
      await model.forward([rows[b] as number[]], 0, { slot: 0 });
      const alone = await model.forward([[(rows[b] as number[])[0] as number]], 12, { slot: 0 });
      expect(maxDiff(alone, next.subarray(b * vocab, (b + 1) * vocab)), `sequence ${b} decode`).toBeLessThanOrEqual(
        LOGIT_ATOL,
      );
    }
  });

  it('forwardBatch: sequences at different positions in their own slots equal each run alone', async (context) => {
    const model = models.get(name);
    if (!model) return context.skip(backends.whyUnavailable(name));
    const vocab = model.args.vocabSize;
    // Three sequences of different lengths, prefilled in chunks into slots 2, 0 and 1 (one chunk
    // is 2 rows at once), then decoded together, each at its own position.
    const sequences = [tokens.slice(0, 20), tokens.slice(3, 10), tokens.slice(21, 22)];
    const slots = [2, 0, 1];
    await model.forwardBatch([{ tokens: (sequences[0] as number[]).slice(0, 13), slot: 2, startPos: 0 }]);
    await model.forwardBatch([
      { tokens: (sequences[0] as number[]).slice(13, 19), slot: 2, startPos: 13 },
      { tokens: (sequences[1] as number[]).slice(0, 6), slot: 0, startPos: 0 },
    ]);
    const decode = await model.forwardBatch(
      sequences.map((seq, b) => ({
        tokens: [seq.at(-1) as number],
        slot: slots[b] as number,
        startPos: seq.length - 1,
      })),
    );
    expect(decode.length).toBe(3 * vocab);
    for (let b = 0; b < sequences.length; b++) {
      const alone = await model.forward([sequences[b] as number[]], 0, { slot: 0 });
      expect(maxDiff(alone, decode.subarray(b * vocab, (b + 1) * vocab)), `sequence ${b}`).toBeLessThanOrEqual(
        LOGIT_ATOL,
      );
    }
    // 'all' gives every position of every row.
    const all = await model.forwardBatch(
      [
        { tokens: tokens.slice(0, 4), slot: 1, startPos: 0 },
        { tokens: tokens.slice(0, 4), slot: 2, startPos: 0 },
      ],
      { logits: 'all' },
    );
    const full = await model.forward([tokens.slice(0, 4)], 0, { logits: 'all' });
    expect(maxDiff(all.subarray(0, 4 * vocab), full)).toBeLessThanOrEqual(LOGIT_ATOL);
    expect(maxDiff(all.subarray(4 * vocab), full)).toBeLessThanOrEqual(LOGIT_ATOL);
  });

  it('forwardBatch rejects rows that do not fit with a clear error', async (context) => {
    const model = models.get(name);
    if (!model) return context.skip(backends.whyUnavailable(name));
    await expect(model.forwardBatch([])).rejects.toThrow('forwardBatch: rows must be a non-empty array');
    await expect(model.forwardBatch([{ tokens: [1], slot: 3, startPos: 0 }])).rejects.toThrow(
      'forwardBatch: rows[0].slot is 3; expected a slot in 0..2',
    );
    await expect(
      model.forwardBatch([
        { tokens: [1], slot: 1, startPos: 0 },
        { tokens: [2], slot: 1, startPos: 5 },
      ]),
    ).rejects.toThrow('forwardBatch: rows[1].slot 1 is used by another row');
    await expect(model.forwardBatch([{ tokens: [1, 2], slot: 0, startPos: 47 }])).rejects.toThrow(
      'forwardBatch: rows[0] positions 47..48 do not fit maxSeqLen 48',
    );
    await expect(
      model.forwardBatch([
        { tokens: [1, 2], slot: 0, startPos: 0 },
        { tokens: [2], slot: 1, startPos: 0 },
      ]),
    ).rejects.toThrow(/rows\[1\].tokens has 1 tokens, rows\[0\].tokens has 2/);
  });

  it('rejects tokens that do not fit with a clear error', async (context) => {
    const model = models.get(name);
    if (!model) return context.skip(backends.whyUnavailable(name));
    await expect(model.forward([[1, 2, 512]], 0)).rejects.toThrow(
      'forward: tokens[0][2] is 512; expected a token id in 0..511',
    );
    await expect(model.forward([[1, 2], [3]], 0)).rejects.toThrow(/tokens\[1\] has 1 tokens, tokens\[0\] has 2/);
    await expect(model.forward([[1]], 48)).rejects.toThrow(/positions 48..48 do not fit maxSeqLen 48/);
    await expect(model.forward([[1], [2], [3], [4]], 0)).rejects.toThrow(ModelError);
  });
});

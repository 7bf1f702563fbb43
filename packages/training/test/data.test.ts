import { readSharedText } from '@llama-ts/test-support';
import { describe, expect, it } from 'vitest';
import { BatchSampler, batchAt, batchStartCount, prepareCorpus, sampleBatch, splitTokens } from '../src/data.js';
import { TrainingRng } from '../src/rng.js';

const text = readSharedText('data', 'tiny_shakespeare.txt');
const corpus = prepareCorpus(text);

describe('prepareCorpus on Tiny Shakespeare', () => {
  it('builds the 68-entry character tokenizer and encodes every character', () => {
    expect(corpus.tokenizer.vocabSize).toBe(68);
    expect(corpus.tokenizer.bosId).toBe(65);
    expect(corpus.tokenizer.eosId).toBe(66);
    expect(corpus.tokens.length).toBe(1_115_394);
    expect(corpus.tokenizer.decode(corpus.tokens.subarray(0, 14))).toBe('First Citizen:');
  });

  it('splits 80/10/10, contiguous, where the recipe cuts (int(0.8 n), int(0.9 n))', () => {
    const { train, val, test } = corpus.splits;
    expect(train.length).toBe(892_315);
    expect(val.length).toBe(1_003_854 - 892_315);
    expect(test.length).toBe(1_115_394 - 1_003_854);
    expect(train.byteOffset).toBe(0);
    expect(val.byteOffset).toBe(train.byteOffset + train.byteLength);
    expect(test.byteOffset).toBe(val.byteOffset + val.byteLength);
  });

  it('rejects bad split fractions', () => {
    expect(() => splitTokens(new Int32Array(10), { train: 0.9, val: 0.2 })).toThrow(/train \+ val <= 1/);
  });
});

describe('batches', () => {
  const options = { batchSize: 3, seqLen: 5, bosId: 100, eosId: 101 };

  it('x = [bos] + data[i : i+seq-1], y = data[i+1 : i+seq] + [eos], row-major', () => {
    const data = Int32Array.from({ length: 20 }, (_, i) => i);
    const batch = batchAt(data, [0, 7, 15], options);
    expect(batch.batchSize).toBe(3);
    expect(batch.seqLen).toBe(5);
    expect([...batch.x]).toEqual([100, 0, 1, 2, 3, 100, 7, 8, 9, 10, 100, 15, 16, 17, 18]);
    expect([...batch.y]).toEqual([1, 2, 3, 4, 101, 8, 9, 10, 11, 101, 16, 17, 18, 19, 101]);
    expect(() => batchAt(data, [16], options)).toThrow(/outside 0\.\.15/);
  });

  it('next-token targets: y = data[i : i+seq], each y[j] the token after x[j]', () => {
    const data = Int32Array.from({ length: 20 }, (_, i) => i);
    const batch = batchAt(data, [0, 15], { ...options, targets: 'next-token' });
    expect([...batch.x]).toEqual([100, 0, 1, 2, 3, 100, 15, 16, 17, 18]);
    expect([...batch.y]).toEqual([0, 1, 2, 3, 4, 15, 16, 17, 18, 19]);
    expect([...batch.x.subarray(1, 5)]).toEqual([...batch.y.subarray(0, 4)]);
  });

  it("the recipe's y runs two tokens ahead of x within the row", () => {
    const rng = new TrainingRng(5);
    const { tokenizer, splits } = corpus;
    const batch = sampleBatch(
      splits.train,
      { batchSize: 4, seqLen: 32, bosId: tokenizer.bosId, eosId: tokenizer.eosId },
      rng,
    );
    for (let row = 0; row < 4; row++) {
      const x = batch.x.subarray(row * 32, row * 32 + 32);
      const y = batch.y.subarray(row * 32, row * 32 + 32);
      expect(x[0]).toBe(tokenizer.bosId);
      expect(y[31]).toBe(tokenizer.eosId);
      expect([...x.subarray(2)]).toEqual([...y.subarray(0, 30)]);
    }
  });

  it('draws starts uniformly over every valid start, reproducibly per seed', () => {
    const data = Int32Array.from({ length: 12 }, (_, i) => i);
    const count = batchStartCount(data.length, 5);
    expect(count).toBe(8);
    const hits = new Array(count).fill(0);
    const sampler = new BatchSampler(data, { ...options, batchSize: 1000 }, new TrainingRng(9));
    for (let k = 0; k < 40; k++) {
      const { x } = sampler.next();
      for (let row = 0; row < 1000; row++) hits[(x[row * 5 + 1] as number) - 0]++;
    }
    for (const h of hits) expect(Math.abs(h / 40_000 - 1 / count)).toBeLessThan(0.01);
    const a = sampleBatch(corpus.splits.val, { ...options, seqLen: 64 }, new TrainingRng(3));
    const b = sampleBatch(corpus.splits.val, { ...options, seqLen: 64 }, new TrainingRng(3));
    expect(a).toEqual(b);
  });

  it('validates its arguments', () => {
    const data = new Int32Array(10);
    const rng = new TrainingRng(1);
    expect(() => sampleBatch(data, { ...options, seqLen: 1 }, rng)).toThrow(/seqLen must be an integer >= 2/);
    expect(() => sampleBatch(data, { ...options, batchSize: 0 }, rng)).toThrow(/batchSize must be a positive integer/);
    expect(() => sampleBatch(data, { ...options, seqLen: 11 }, rng)).toThrow(/10 tokens, too few for sequences of 11/);
    expect(() => sampleBatch(data, { ...options, bosId: -1 }, rng)).toThrow(/bosId/);
    expect(sampleBatch(data, { ...options, seqLen: 10 }, rng).x.length).toBe(30);
  });
});

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, type MetaParams, openPthCheckpoint } from '@llama-ts/model';
import { readSharedText } from '@llama-ts/test-support';
import { CharTokenizer } from '@llama-ts/tokenizer';
import { loadCharTokenizer } from '@llama-ts/tokenizer/node';
import { afterAll, describe, expect, it } from 'vitest';
import { argsOfParams, readParameters, readParams, writeCheckpoint } from '../src/checkpoint.js';
import { initParameters, parameterSpecs } from '../src/init.js';
import { LossLog } from '../src/metrics.js';
import { readTrainingState, type TrainingState, writeTrainingState } from '../src/resume-state.js';
import { TrainingRng } from '../src/rng.js';

const tokenizer = CharTokenizer.fromCorpus(readSharedText('data', 'tiny_shakespeare.txt'));
const params: MetaParams = {
  dim: 32,
  n_layers: 2,
  n_heads: 4,
  n_kv_heads: 2,
  vocab_size: 68,
  multiple_of: 16,
  ffn_dim_multiplier: null,
  norm_eps: 1e-5,
  rope_theta: 10000,
  max_seq_len: 48,
};
const args = argsOfParams(params);
const tensors = initParameters(args, { seed: 5 });

const root = await mkdtemp(join(tmpdir(), 'llama-ts-ckpt-'));
afterAll(() => rm(root, { recursive: true, force: true }));

function moments(seed: number): Map<string, Float32Array> {
  const rng = new TrainingRng(seed);
  return new Map(
    parameterSpecs(args).map(({ name }) => [name, (tensors.get(name) as Float32Array).map(() => rng.next())]),
  );
}

describe('writeCheckpoint', () => {
  const dir = join(root, 'model');

  it('writes params.json, consolidated.00.pth and tokenizer.json that @llama-ts/model and the tokenizer load', async () => {
    await writeCheckpoint(dir, { params, tensors, tokenizer });
    expect((await readdir(dir)).sort()).toEqual(['consolidated.00.pth', 'params.json', 'tokenizer.json']);
    const written = JSON.parse(await readFile(join(dir, 'params.json'), 'utf8'));
    expect(Object.keys(written)).toEqual([
      'dim',
      'n_layers',
      'n_heads',
      'n_kv_heads',
      'vocab_size',
      'multiple_of',
      'norm_eps',
      'rope_theta',
      'max_seq_len',
    ]);

    const model = await loadModel(dir, { backend: 'cpu' });
    try {
      expect(model.args.vocabSize).toBe(68);
      expect(model.args.maxSeqLen).toBe(48); // from max_seq_len
      expect(model.args.ropeTheta).toBe(10000);
      expect(model.args.ffnHiddenDim).toBe(args.ffnHiddenDim);
      const logits = await model.forward([tokenizer.encode('ROMEO:', { bos: true })], 0);
      expect(logits.length).toBe(68);
      expect(logits.every(Number.isFinite)).toBe(true);
    } finally {
      model.dispose();
    }

    const restored = await loadCharTokenizer(join(dir, 'tokenizer.json'));
    expect(restored.vocab).toEqual(tokenizer.vocab);
    expect(restored.encode('To be, or not to be')).toEqual(tokenizer.encode('To be, or not to be'));
  });

  it('stores the tensors as f32, bit for bit, in state_dict order', async () => {
    const reader = await openPthCheckpoint([join(dir, 'consolidated.00.pth')]);
    try {
      expect(reader.tensors.map((t) => t.name)).toEqual(parameterSpecs(args).map((s) => s.name));
      expect(reader.tensors.every((t) => t.dtype === 'f32')).toBe(true);
    } finally {
      await reader.close();
    }
    const back = await readParameters(dir);
    for (const [name, values] of tensors) expect(back.get(name)).toEqual(values);
    expect(await readParams(dir)).toEqual({ ...params, ffn_dim_multiplier: undefined });
  });

  it('refuses missing, mis-sized, extra or non-finite tensors and a tokenizer of the wrong size', async () => {
    const bad = join(root, 'bad');
    const without = new Map(tensors);
    without.delete('layers.1.ffn_norm.weight');
    await expect(writeCheckpoint(bad, { params, tensors: without, tokenizer })).rejects.toThrow(
      /layers\.1\.ffn_norm\.weight \[32\] is missing/,
    );
    const short = new Map(tensors).set('output.weight', new Float32Array(3));
    await expect(writeCheckpoint(bad, { params, tensors: short, tokenizer })).rejects.toThrow(
      /output.weight has 3 values/,
    );
    const extra = new Map(tensors).set('rope.freqs', new Float32Array(3));
    await expect(writeCheckpoint(bad, { params, tensors: extra, tokenizer })).rejects.toThrow(
      /rope.freqs is not a parameter/,
    );
    const nan = new Map(tensors).set('norm.weight', new Float32Array(32).fill(Number.NaN));
    await expect(writeCheckpoint(bad, { params, tensors: nan, tokenizer })).rejects.toThrow(/norm.weight holds NaN/);
    await expect(writeCheckpoint(bad, { params, tensors, tokenizer: CharTokenizer.fromCorpus('abc') })).rejects.toThrow(
      /6 entries but params.vocab_size is 68/,
    );
  });
});

describe('training state for --resume', () => {
  const dir = join(root, 'step-200');

  it('round-trips step, RNG states, loss log and Adam moments, and leaves the model loadable', async () => {
    await writeCheckpoint(dir, { params, tensors, tokenizer });
    const log = new LossLog([
      { step: 0, trainLoss: 4.3, valLoss: 4.31, lr: 1e-4, tokensPerSecond: 900 },
      { step: 1, trainLoss: 4.1, lr: 2e-4, tokensPerSecond: 950.5 },
    ]);
    const trainRng = new TrainingRng(1);
    trainRng.next();
    const state: TrainingState = {
      step: 200,
      rng: { train: trainRng.state(), eval: new TrainingRng(2).state() },
      lossLog: log.toJSON(),
      tokensSeen: 153_600,
      elapsedSeconds: 412.5,
      preset: 'default',
      config: { lr: 2e-3 },
    };
    const m = moments(10);
    const v = moments(11);
    await writeTrainingState(dir, state, { m, v });
    expect((await readdir(join(dir, 'resume'))).sort()).toEqual(['optimizer.pth', 'training-state.json']);

    const back = await readTrainingState(dir);
    expect(back.state).toEqual(state);
    for (const [name, values] of m) expect(back.moments.m.get(name)).toEqual(values);
    for (const [name, values] of v) expect(back.moments.v.get(name)).toEqual(values);
    const resumed = TrainingRng.fromState(back.state.rng.train as [number, number, number, number]);
    expect(resumed.next()).toBe(trainRng.next());

    // The resume/ folder does not confuse the loader (every *.pth at the top level is a shard).
    const model = await loadModel(dir, { backend: 'cpu' });
    model.dispose();
  });

  it('says what is wrong with a folder without training state or with bad state', async () => {
    await expect(readTrainingState(join(root, 'model'))).rejects.toThrow(/training-state.json does not exist/);
    const state: TrainingState = { step: -1, rng: {}, lossLog: [], tokensSeen: 0, elapsedSeconds: 0 };
    await expect(writeTrainingState(dir, state, { m: moments(1), v: moments(2) })).rejects.toThrow(/step must be/);
    const good = { ...state, step: 3 };
    const missing = moments(1);
    missing.delete('norm.weight');
    await expect(writeTrainingState(dir, good, { m: moments(1), v: missing })).rejects.toThrow(/v: norm.weight/);
  });
});

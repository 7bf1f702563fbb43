// The training loop on the CPU backend with a tiny model (and its loss curve on WebGPU and wasm): the loss falls, a seed reproduces the
// run, an interrupted run resumed ends bit for bit where an uninterrupted one does, checkpoints
// load in @llama-ts/model, clipping bounds what reaches the optimiser, and bad options say why.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, createBackend, fromArray, zeros } from '@llama-ts/kernels';
import { loadModel } from '@llama-ts/model';
import { acquireWebGPUForTests, readSharedText } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParameters } from '../src/checkpoint.js';
import { BatchSampler, prepareCorpus } from '../src/data.js';
import { TrainingError } from '../src/errors.js';
import { numel } from '../src/init.js';
import { LlamaTrainer } from '../src/llama-train.js';
import { CSV_HEADER, LossLog, type LossRecord } from '../src/metrics.js';
import { AdamW, clipScale, decaysWeight, globalGradNorm } from '../src/optimizer.js';
import { defaultPreset, presetArgs, seed003 } from '../src/presets.js';
import { resolvePreset } from '../src/resolve-preset.js';
import { readTrainingState } from '../src/resume-state.js';
import { TrainingRng } from '../src/rng.js';
import { cosineLr, learningRate } from '../src/schedule.js';
import { train } from '../src/train.js';
import type { TrainOptions, TrainSummary } from '../src/train-options.js';

const corpus = prepareCorpus(readSharedText('data', 'tiny_shakespeare.txt'));
const data = { tokens: corpus.tokens, tokenizer: corpus.tokenizer };

/** The default preset scaled down to run 20 steps in well under a second. */
const tiny = resolvePreset(defaultPreset, {
  name: 'tiny',
  model: { dim: 16, n_layers: 1, n_heads: 2, n_kv_heads: 1, multiple_of: 8 },
  seqLen: 8,
  batchSize: 2,
  steps: 20,
  evalInterval: 5,
  evalBatches: 4,
  checkpointInterval: 10,
  schedule: cosineLr({ maxLr: 1e-2, minLr: 1e-3, warmupSteps: 2, totalSteps: 20 }),
});

let cpu: Backend;
const root = await mkdtemp(join(tmpdir(), 'llama-ts-train-'));
let runs = 0;
const freshDir = () => join(root, `run-${runs++}`);

beforeAll(async () => {
  cpu = await createBackend({ kind: 'cpu' });
});

afterAll(async () => {
  cpu.destroy();
  await rm(root, { recursive: true, force: true });
});

function run(options: Partial<TrainOptions> = {}): Promise<TrainSummary> {
  return train({ backend: cpu, preset: tiny, data, outputDir: freshDir(), ...options });
}

/** The log without throughput, which depends on the clock. */
function curve(log: LossLog | readonly LossRecord[]): Omit<LossRecord, 'tokensPerSecond'>[] {
  const records = log instanceof LossLog ? log.records : log;
  return records.map(({ tokensPerSecond: _, ...rest }) => rest);
}

function expectSameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [name, values] of a) {
    const other = b.get(name) as Float32Array;
    // Bit for bit: compare the raw words, so that even -0 and +0 would differ.
    expect(new Uint32Array(other.buffer, other.byteOffset, other.length), name).toEqual(
      new Uint32Array(values.buffer, values.byteOffset, values.length),
    );
  }
}

describe('train', () => {
  let first: TrainSummary;
  const steps: number[] = [];
  const evals: number[] = [];
  const checkpoints: number[] = [];

  beforeAll(async () => {
    first = await run({
      onStep: ({ step }) => {
        steps.push(step);
      },
      onEval: ({ step }) => {
        evals.push(step);
      },
      onCheckpoint: (_dir, step) => {
        checkpoints.push(step);
      },
    });
  });

  it('lowers the loss, evaluating at step 0, every evalInterval and at the end', () => {
    expect(first).toMatchObject({ steps: 20, interrupted: false, tokensSeen: 20 * 2 * 8 });
    expect(steps).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(evals).toEqual([0, 5, 10, 15, 20]);
    expect(checkpoints).toEqual([10, 20]);
    const records = first.lossLog.records;
    const initial = records[0] as LossRecord;
    // A fresh GPT-2-initialised model predicts nearly uniformly over the 68 entries.
    expect(initial.valLoss).toBeCloseTo(Math.log(68), 1);
    expect(first.finalValLoss).toBeLessThan((initial.valLoss as number) - 0.5);
    expect(first.finalTrainLoss).toBeLessThan(initial.trainLoss - 0.5);
    expect(first.tokensPerSecond).toBeGreaterThan(0);
    expect(records.map((r) => r.lr)).toEqual([0, 5, 10, 15, 20].map((s) => learningRate(tiny.schedule, s)));
  });

  it('writes the checkpoint, resume state, loss.csv and loss.svg into the output folder', async () => {
    const dir = first.outputDir;
    expect((await readdir(dir)).sort()).toEqual([
      'consolidated.00.pth',
      'loss.csv',
      'loss.svg',
      'params.json',
      'resume',
      'tokenizer.json',
    ]);
    const csv = await readFile(join(dir, 'loss.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe(CSV_HEADER);
    expect(curve(LossLog.fromCSV(csv))).toEqual(curve(first.lossLog));
    expect(await readFile(join(dir, 'loss.svg'), 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
    expect(JSON.parse(await readFile(join(dir, 'params.json'), 'utf8'))).toMatchObject({
      dim: 16,
      n_layers: 1,
      vocab_size: 68,
      max_seq_len: 8,
    });
    const { state } = await readTrainingState(dir);
    expect(state).toMatchObject({ step: 20, tokensSeen: 320, preset: 'tiny' });
    expect(Object.keys(state.rng).sort()).toEqual(['evalTrain', 'evalVal', 'train']);
  });

  it('writes a checkpoint that loadModel loads, with the logits of the trained weights', async () => {
    const dir = first.outputDir;
    const values = await readParameters(dir);
    const args = presetArgs(tiny, corpus.tokenizer.vocabSize);
    const trainer = new LlamaTrainer(cpu, args, values);
    const batch = new BatchSampler(
      corpus.splits.val,
      { batchSize: 2, seqLen: 8, bosId: corpus.tokenizer.bosId, eosId: corpus.tokenizer.eosId },
      new TrainingRng(1),
    ).next();
    const expected = await trainer.logits(batch);
    trainer.dispose();
    const model = await loadModel(dir, { backend: cpu, maxBatchSize: 2 });
    expect(model.args.maxSeqLen).toBe(8);
    const rows = [Array.from(batch.x.subarray(0, 8)), Array.from(batch.x.subarray(8))];
    const logits = await model.forward(rows, 0, { logits: 'all' });
    model.dispose();
    expect(logits.length).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < logits.length; i++)
      worst = Math.max(worst, Math.abs((logits[i] as number) - (expected[i] as number)));
    expect(worst).toBeLessThan(1e-5);
  });

  it('reproduces the same loss curve and weights from the same seed, and not from another', async () => {
    const again = await run();
    expect(curve(again.lossLog)).toEqual(curve(first.lossLog));
    expectSameWeights(await readParameters(again.outputDir), await readParameters(first.outputDir));
    const other = await run({ seed: tiny.seed + 1 });
    expect(curve(other.lossLog)).not.toEqual(curve(first.lossLog));
  });

  // 10: stopped on an evaluation and checkpoint step; 13: between them (the abort writes a checkpoint).
  it.for([10, 13])('ends bit for bit like an uninterrupted run when stopped at step %i and resumed', async (at) => {
    const outputDir = freshDir();
    const controller = new AbortController();
    const stopped = await run({
      outputDir,
      signal: controller.signal,
      onStep: ({ step }) => {
        if (step === at) controller.abort();
      },
    });
    expect(stopped).toMatchObject({ steps: at, interrupted: true });
    expect((await readTrainingState(outputDir)).state.step).toBe(at);
    const resumedFrom: number[] = [];
    const resumed = await run({
      outputDir,
      resume: true,
      onStart: ({ startStep }) => {
        resumedFrom.push(startStep);
      },
    });
    expect(resumedFrom).toEqual([at]);
    expect(resumed).toMatchObject({ steps: 20, interrupted: false, tokensSeen: 320 });
    expect(curve(resumed.lossLog)).toEqual(curve(first.lossLog));
    expect(curve(LossLog.fromCSV(await readFile(join(outputDir, 'loss.csv'), 'utf8')))).toEqual(curve(first.lossLog));
    expectSameWeights(await readParameters(outputDir), await readParameters(first.outputDir));
    const moments = (await readTrainingState(outputDir)).moments;
    const firstMoments = (await readTrainingState(first.outputDir)).moments;
    expectSameWeights(moments.m as Map<string, Float32Array>, firstMoments.m as Map<string, Float32Array>);
    expectSameWeights(moments.v as Map<string, Float32Array>, firstMoments.v as Map<string, Float32Array>);
  });

  /** The loss curve of the tiny run on `backend` follows the CPU's (`first`). */
  async function expectCpuCurveOn(backend: Backend): Promise<void> {
    const other = await train({ backend, preset: tiny, data, outputDir: freshDir() });
    const want = first.lossLog.records;
    expect(other.lossLog.records.map((r) => r.step)).toEqual(want.map((r) => r.step));
    other.lossLog.records.forEach((record, i) => {
      const cpuRecord = want[i] as LossRecord;
      // f32 kernels that sum in other orders, amplified a little by 20 Adam steps.
      expect(Math.abs(record.trainLoss - cpuRecord.trainLoss), `train loss at ${record.step}`).toBeLessThan(1e-3);
      expect(
        Math.abs((record.valLoss as number) - (cpuRecord.valLoss as number)),
        `val loss at ${record.step}`,
      ).toBeLessThan(1e-3);
    });
  }

  it('follows the same loss curve on WebGPU', async (context) => {
    const availability = await acquireWebGPUForTests(() => createBackend({ kind: 'webgpu', log: null }));
    if (!availability.available) return context.skip(availability.reason);
    const gpu = availability.value;
    try {
      await expectCpuCurveOn(gpu);
    } finally {
      gpu.destroy();
    }
  });

  it('follows the same loss curve on wasm (2 threads)', async () => {
    const wasm = await createBackend({ kind: 'wasm', threads: 2, minWorkPerThread: 1, log: null });
    try {
      await expectCpuCurveOn(wasm);
    } finally {
      wasm.destroy();
    }
  });

  it('resumes a finished run for more steps when the schedule allows it', async () => {
    const constant = resolvePreset(tiny, { schedule: { kind: 'constant', lr: 1e-2 }, steps: 4 });
    const outputDir = freshDir();
    await run({ preset: constant, outputDir });
    const longer = await run({ preset: constant, overrides: { steps: 6 }, outputDir, resume: true });
    const straight = await run({ preset: constant, overrides: { steps: 6 } });
    // Evaluations at 0, 4 (the old end) and 5, 6 versus 0, 5, 6: the training stream is the same
    // up to step 4, but the extra evaluation at 4 only draws from the evaluation streams.
    expect(longer.lossLog.records.map((r) => r.step)).toEqual([0, 4, 5, 6]);
    expect(straight.lossLog.records.map((r) => r.step)).toEqual([0, 5, 6]);
    expectSameWeights(await readParameters(outputDir), await readParameters(straight.outputDir));
  });
});

describe('the optimiser', () => {
  /** The L2 norm over every array of a map. */
  const normOf = (arrays: Iterable<Float32Array>) => {
    let sum = 0;
    for (const values of arrays) for (const x of values) sum += x * x;
    return Math.sqrt(sum);
  };

  it('clips the global gradient norm before the update', async () => {
    const rng = new TrainingRng(4);
    const shapes = new Map<string, number[]>([
      ['a', [3, 4]],
      ['b', [5]],
    ]);
    const hostGrads = new Map(
      [...shapes].map(([name, shape]) => [name, Float32Array.from({ length: numel(shape) }, () => rng.normal())]),
    );
    const grads = new Map(
      [...shapes].map(([name, shape]) => [name, fromArray(cpu, hostGrads.get(name) as Float32Array, shape)]),
    );
    const params = new Map([...shapes].map(([name, shape]) => [name, zeros(cpu, shape)]));
    const norm = await globalGradNorm(cpu, grads.values());
    expect(norm).toBeCloseTo(normOf(hostGrads.values()), 4);
    const adam = new AdamW(cpu, params, { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    adam.update(grads, { lr: 1e-3, gradScale: clipScale(norm, 0.25) });
    // m = (1 - beta1) · the scaled gradient after one step: its norm is what reached the optimiser.
    expect(normOf((await adam.moments()).m.values()) / 0.1).toBeCloseTo(0.25, 5);
    expect(clipScale(0.1, 0.25)).toBe(1);
    expect(clipScale(5, null)).toBe(1);
    adam.dispose();
    for (const t of [...params.values(), ...grads.values()]) t.dispose();
  });

  it('bounds what reaches the optimiser in the loop: with a tiny clip the first moments have its norm', async () => {
    const clipped = await run({ overrides: { steps: 1, gradClip: 1e-3 } });
    const m = (await readTrainingState(clipped.outputDir)).moments.m;
    expect(normOf(m.values()) / (1 - tiny.optimizer.beta1)).toBeCloseTo(1e-3, 6);
    const unclipped = await run({ overrides: { steps: 1, gradClip: null } });
    const free = (await readTrainingState(unclipped.outputDir)).moments.m;
    expect(normOf(free.values()) / (1 - tiny.optimizer.beta1)).toBeGreaterThan(0.1);
  });

  it('decays the matrices only: not the norm weights, not the embedding', async () => {
    const shapes = new Map<string, number[]>([
      ['tok_embeddings.weight', [6, 4]],
      ['layers.0.attention.wq.weight', [4, 4]],
      ['layers.0.attention_norm.weight', [4]],
      ['output.weight', [6, 4]],
    ]);
    const params = new Map(
      [...shapes].map(([name, shape]) => [name, fromArray(cpu, new Float32Array(numel(shape)).fill(1), shape)]),
    );
    // Zero gradients: Adam's step is 0, so whatever changes is the decay.
    const zerosGrad = new Map([...shapes].map(([name, shape]) => [name, zeros(cpu, shape)]));
    const adam = new AdamW(cpu, params, { kind: 'adamw', beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.5 });
    adam.update(zerosGrad, { lr: 0.1 });
    const after = new Map<string, number>();
    for (const [name, t] of params) after.set(name, (await t.toFloat32())[0] as number);
    expect(Object.fromEntries(after)).toEqual({
      'tok_embeddings.weight': 1,
      'layers.0.attention.wq.weight': Math.fround(1 - 0.1 * 0.5),
      'layers.0.attention_norm.weight': 1,
      'output.weight': Math.fround(1 - 0.1 * 0.5),
    });
    expect(decaysWeight('tok_embeddings.weight', [6, 4])).toBe(false);
    adam.dispose();
    for (const t of [...params.values(), ...zerosGrad.values()]) t.dispose();
    // Plain Adam never decays.
    expect(() => resolvePreset(seed003, { optimizer: { weightDecay: 0.1 } })).toThrow(
      /weightDecay must be 0 for kind 'adam'/,
    );
  });
});

describe('bad options', () => {
  it.for([
    [{ preset: 'large' }, /preset: unknown training preset "large"; known: seed003, default/],
    [{ overrides: { steps: 0 } }, /steps must be an integer >= 1, got 0/],
    [{ overrides: { evalInterval: 1.5 } }, /evalInterval must be an integer >= 1, got 1.5/],
    [{ overrides: { stepz: 3 } as never }, /overrides has an unknown field "stepz"/],
    [{ overrides: { model: { dim: 18 } } }, /model: .*dim/],
    [{ overrides: { gradClip: -1 } }, /gradClip must be a positive number or null/],
    [{ seed: 1.5 }, /seed must be an integer, got 1.5/],
    [{ data: '' }, /data: the corpus text is empty/],
    [{ data: 'To be or not' }, /data: the val split has 1 tokens, too few for seqLen 8/],
    [{ outputDir: '' }, /outputDir must be a folder path/],
  ] as [Partial<TrainOptions>, RegExp][])('rejects %o', async ([options, message]) => {
    const error = await run(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect((error as Error).message).toMatch(message);
  });

  it('asks for resume state when there is none', async () => {
    const outputDir = freshDir();
    await expect(run({ outputDir, resume: true })).rejects.toThrow(
      /resume: .* holds no training state to resume \(.*training-state\.json does not exist\)/,
    );
  });

  it('refuses to resume a folder that holds another model, or a run with other settings', async () => {
    const outputDir = freshDir();
    await run({ outputDir, overrides: { steps: 2, checkpointInterval: 1 } });
    await expect(run({ outputDir, resume: true, overrides: { steps: 4, model: { dim: 32 } } })).rejects.toThrow(
      /resume: outputDir .* holds a different model \(dim 16 there, 32 with these options\)/,
    );
    await expect(run({ outputDir, resume: true, overrides: { steps: 2 }, seed: 99 })).rejects.toThrow(
      /was trained with seed 1337, not 99/,
    );
    // A cosine schedule is stretched to the run's steps, so a longer run is another schedule.
    await expect(run({ outputDir, resume: true, overrides: { steps: 4 } })).rejects.toThrow(
      /was trained with schedule.totalSteps 2, not 4 \(a cosine schedule is stretched to the run's steps: resume with steps 2/,
    );
    await expect(run({ outputDir, resume: true, overrides: { steps: 2 } })).rejects.toThrow(
      /has already done 2 steps; steps must be more than that to continue \(got 2\)/,
    );
    const other = prepareCorpus('abc'.repeat(100), { tokenizer: corpus.tokenizer });
    await expect(
      run({
        outputDir,
        resume: true,
        overrides: { steps: 2 },
        data: { tokens: other.tokens, tokenizer: corpus.tokenizer },
      }),
    ).rejects.toThrow(/was trained on different data/);
  });

  it('will not start a new run over a checkpoint unless told to overwrite it', async () => {
    const outputDir = freshDir();
    await run({ outputDir, overrides: { steps: 1 } });
    await expect(run({ outputDir, overrides: { steps: 1 } })).rejects.toThrow(
      /outputDir .* already holds a checkpoint .*; resume to continue its run, overwrite to replace it/,
    );
    const replaced = await run({ outputDir, overrides: { steps: 2 }, overwrite: true });
    expect(replaced.steps).toBe(2);
  });
});

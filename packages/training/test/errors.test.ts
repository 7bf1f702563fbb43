// Bad input to the public API is a TrainingError with a one-line message naming the field or file,
// also when the model package finds it on training's behalf (so the CLI reports it as bad input).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '@llama-ts/kernels';
import { CharTokenizer } from '@llama-ts/tokenizer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getPreset,
  LossLog,
  presetParams,
  readTrainingState,
  TrainingError,
  TrainingRng,
  train,
  writeCheckpoint,
} from '../src/index.js';

async function trainingError(action: () => unknown): Promise<string> {
  const error = await (async () => action())().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TrainingError);
  const message = (error as Error).message;
  expect(message).not.toContain('\n');
  return message;
}

describe('TrainingError', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-ts-training-errors-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('names the argument or field for plain bad values', async () => {
    expect(await trainingError(() => new TrainingRng(1.5))).toBe('TrainingRng: seed must be an integer, got 1.5');
    expect(await trainingError(() => LossLog.fromJSON('x'))).toBe('LossLog.fromJSON: expected an array of records');
    expect(await trainingError(() => getPreset('nope'))).toMatch(/^unknown training preset "nope"; known: /);
  });

  it('checks absurd sizes against the memory they would need before allocating anything', async () => {
    const backend = await createBackend({ kind: 'cpu' });
    const data = 'To be, or not to be, that is the question. '.repeat(40);
    const run = (overrides: object) =>
      trainingError(() => train({ backend, preset: 'default', overrides, data, outputDir: join(dir, 'absurd') }));
    expect(await run({ batchSize: 1e9, steps: 1 })).toMatch(
      /^batchSize 1000000000 × seqLen 128 needs about [\d.]+ PiB of activations \(beside [\d.]+ MiB of weights and optimiser state\) but this machine's memory holds at most [\d.]+ GiB$/,
    );
    expect(await run({ model: { n_layers: 1e9 }, steps: 1 })).toMatch(
      /^model: n_layers 1000000000, dim 96 \(ffn 256, vocab \d+\) needs [\d.]+ PiB for the weights, gradients and Adam's moments but this machine's memory holds at most [\d.]+ GiB$/,
    );
    backend.destroy();
  });

  it('names the file of a folder without training state', async () => {
    const message = await trainingError(() => readTrainingState(dir));
    expect(message).toBe(
      `${join(dir, 'resume', 'training-state.json')} does not exist: ${dir} is not a checkpoint written with training state`,
    );
  });

  it("turns the model package's complaint about params into a TrainingError", async () => {
    const params = { ...presetParams(getPreset('default'), 3), n_heads: 0 };
    const tokenizer = CharTokenizer.fromCorpus('abc');
    const message = await trainingError(() => writeCheckpoint(dir, { params, tensors: new Map(), tokenizer }));
    expect(message).toMatch(/^writeCheckpoint .*: params: field "n_heads" must be at least 1, got 0$/);
  });

  it('names params.json when it is not JSON', async () => {
    const state = { format: 'llama-ts/training-state', version: 1, step: 0, rng: {}, lossLog: [] };
    await mkdir(join(dir, 'resume'), { recursive: true });
    await writeFile(
      join(dir, 'resume', 'training-state.json'),
      JSON.stringify({ ...state, tokensSeen: 0, elapsedSeconds: 0 }),
    );
    await writeFile(join(dir, 'params.json'), '{ not json');
    const message = await trainingError(() => readTrainingState(dir));
    expect(message.startsWith(`${join(dir, 'params.json')}: not valid JSON (`), message).toBe(true);
  });
});

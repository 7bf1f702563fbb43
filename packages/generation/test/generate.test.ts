// The reference's generate() on the golden checkpoint: greedy continuation, echo log-probs, ragged
// batches, the stop-token cut and the reference's quirks, on every backend (cpu, webgpu, wasm on 1, 2
// and 3 threads).
import { type Backend, createBackend } from '@llama-ts/kernels';
import { backendPool, MODEL_TEST_BACKENDS, modelTestFactories } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationError, type Llama } from '../src/index.js';
import { golden, goldenLlama } from './fixtures.js';

const backends = backendPool(modelTestFactories(createBackend));
beforeAll(() => backends.setUp(MODEL_TEST_BACKENDS));
afterAll(() => backends.tearDown());

const greedy = { temperature: 0 };

describe.each(MODEL_TEST_BACKENDS)('generate on %s', (name) => {
  let llama: Llama | undefined;
  beforeAll(async () => {
    const backend = backends.find(name);
    if (backend) llama = await goldenLlama(backend);
  });
  afterAll(() => llama?.dispose());

  it('temperature 0 reproduces the greedy continuation', async (context) => {
    if (!llama) return context.skip(backends.whyUnavailable(name));
    const result = await llama.generate([golden.tokens], { ...greedy, maxGenLen: 16 });
    expect(result.tokens).toEqual([golden.greedy.tokens]);
    expect(result.usage).toMatchObject({ promptTokens: 24, generatedTokens: 16, prefilledTokens: 24 });
  });

  it('logprobs with echo reproduce the prompt and continuation log-probs, with a leading 0', async (context) => {
    if (!llama) return context.skip(backends.whyUnavailable(name));
    const result = await llama.generate([golden.tokens], { ...greedy, maxGenLen: 16, logprobs: true, echo: true });
    expect(result.tokens[0]).toEqual([...golden.tokens, ...golden.greedy.tokens]);
    const expected = [0, ...golden.prompt_logprobs, ...golden.greedy.logprobs];
    const got = result.logprobs?.[0] ?? [];
    expect(got).toHaveLength(expected.length);
    got.forEach((value, i) => {
      expect(Math.abs(value - (expected[i] as number)), `position ${i}`).toBeLessThan(golden.tolerances.logprob_atol);
    });
  });

  it('a batch of ragged prompts equals each prompt alone', async (context) => {
    if (!llama) return context.skip(backends.whyUnavailable(name));
    const prompts = [golden.tokens, golden.tokens.slice(0, 9), golden.tokens.slice(4, 21)];
    const batch = await llama.generate(prompts, { ...greedy, maxGenLen: 10, logprobs: true });
    for (let i = 0; i < prompts.length; i++) {
      const alone = await llama.generate([prompts[i] as number[]], { ...greedy, maxGenLen: 10, logprobs: true });
      expect(batch.tokens[i], `prompt ${i}`).toEqual(alone.tokens[0]);
      (batch.logprobs?.[i] ?? []).forEach((v, t) => {
        expect(Math.abs(v - (alone.logprobs?.[0]?.[t] ?? 0))).toBeLessThan(1e-3);
      });
    }
  });
});

describe('reference semantics', () => {
  let llama: Llama;
  beforeAll(async () => {
    llama = await goldenLlama(backends.find('cpu') as Backend, {
      stopTokens: [golden.greedy.tokens[5] as number, golden.tokens[2] as number],
    });
  });
  afterAll(() => llama.dispose());

  it('cuts the output at the first stop token and stops generating', async () => {
    // The stop tokens: greedy step 5's id, and a prompt id that the continuation never produces.
    expect(golden.greedy.tokens).not.toContain(golden.tokens[2]);
    const result = await llama.generate([golden.tokens], { ...greedy, maxGenLen: 16 });
    expect(result.tokens[0]).toEqual(golden.greedy.tokens.slice(0, 5));
    expect(result.usage.generatedTokens).toBe(5);
  });

  it('with echo, a stop token inside the prompt cuts the output there (the reference quirk)', async () => {
    const result = await llama.generate([golden.tokens], { ...greedy, maxGenLen: 4, echo: true });
    expect(result.tokens[0]).toEqual(golden.tokens.slice(0, 2));
  });

  it('when the prompt fills the whole length, log-prob t scores token t itself (the reference quirk)', async () => {
    const plain = await goldenLlama(backends.find('cpu') as Backend);
    const prompt = golden.tokens.slice(0, 8);
    const result = await plain.generate([prompt], { maxGenLen: 0, logprobs: true, echo: true });
    expect(result.tokens[0]).toEqual(prompt);
    const logits = await plain.model.forward([prompt], 0, { logits: 'all' });
    const vocab = plain.model.args.vocabSize;
    prompt.forEach((id, t) => {
      const row = logits.subarray(t * vocab, (t + 1) * vocab);
      const max = Math.max(...row);
      const logSum = Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0)) + max;
      expect(Math.abs((result.logprobs?.[0]?.[t] as number) - ((row[id] as number) - logSum))).toBeLessThan(1e-4);
    });
    plain.dispose();
  });

  it('maxGenLen defaults to maxSeqLen - 1, bounded by the context', async () => {
    const result = await llama.generate([[1, 2, 3]], { temperature: 0.8 });
    expect(result.tokens[0]?.length).toBeLessThanOrEqual(64 - 3);
  });

  it('refuses impossible requests with clear errors', async () => {
    const five = Array.from({ length: 5 }, () => [1, 2]);
    await expect(llama.generate(five, greedy)).rejects.toThrow('generate: 5 prompts exceed maxBatchSize 4');
    await expect(llama.generate([new Array(65).fill(1)], greedy)).rejects.toThrow(
      'generate: prompt 0 has 65 tokens, longer than the context (maxSeqLen 64)',
    );
    await expect(llama.generate([[1], []], greedy)).rejects.toThrow('generate: prompt 1 is empty');
    await expect(llama.generate([[1]], { maxGenLen: -1 })).rejects.toThrow(GenerationError);
    await expect(llama.generate([[1]], { temperature: -1 })).rejects.toThrow(/temperature/);
  });

  it('the same seed gives the same sampled tokens', async () => {
    llama.reseed(42);
    const first = await llama.generate([golden.tokens], { temperature: 1, topP: 0.95, maxGenLen: 12 });
    llama.reseed(42);
    const second = await llama.generate([golden.tokens], { temperature: 1, topP: 0.95, maxGenLen: 12 });
    expect(first.tokens).toEqual(second.tokens);
  });
});

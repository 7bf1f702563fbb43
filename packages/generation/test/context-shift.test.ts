// Generation past the context (contextShift): after every shift the cache holds the kept tokens
// (the first `keep` and the most recent half) and the logits equal a fresh prefill of exactly those
// tokens, on the cpu and wasm backends; generate, stream (stop tokens, stop strings, maxGenLen,
// abort) and ragged batches keep working across shifts; off by default, as the reference.
import { type Backend, createBackend } from '@llama-ts/kernels';
import { loadModel } from '@llama-ts/model';
import { backendPool, goldenDir, modelTestFactories } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planStep, recentAfterShift, resolveContextShift } from '../src/context-shift.js';
import { GenerationError, idTokenizer, Llama, type StreamDelta } from '../src/index.js';
import { golden, goldenLlama } from './fixtures.js';
import { maxAbsDiff, type RecordedPass, RecordingModel } from './recording-model.js';

const BACKENDS = ['cpu', 'wasm-2'] as const;
const backends = backendPool(modelTestFactories(createBackend));
beforeAll(() => backends.setUp(BACKENDS));
afterAll(() => backends.tearDown());

// The cpu backend computes a decode step and a prefill alike, so the logits are bit-equal; the wasm
// backend's decode (matrix-vector) and prefill (matrix-matrix) kernels sum in different orders, and
// already differ by ~1e-5 before any shift.
const TOLERANCE = { cpu: 0, 'wasm-2': 1e-4 } as const;
const MAX_SEQ_LEN = 32;
const KEEP = 3;
const greedy = { temperature: 0 };

/** The golden model behind a RecordingModel, with a 32-position cache. */
async function recordingLlama(backend: Backend, stopTokens: number[] = []) {
  const model = new RecordingModel(
    await loadModel(goldenDir('tiny-meta-bf16'), { backend, maxSeqLen: MAX_SEQ_LEN, maxBatchSize: 2 }),
  );
  return { model, llama: new Llama(model, idTokenizer(model.args.vocabSize, stopTokens)) };
}

/**
 * Checks every recorded pass of a one-token-per-step generation whose first pass ends at position
 * `firstEnd`: the cache holds at most the context, the first `keep` tokens of the sequence and then
 * its most recent tokens up to the pass's end (a shift keeps exactly the recent half), and the
 * pass's logits equal those of a fresh prefill of what it holds.
 */
async function expectEveryPassAFreshPrefill(
  passes: readonly RecordedPass[],
  sequences: readonly (readonly number[])[],
  firstEnd: number,
  fresh: Llama,
  tolerance: number,
): Promise<number> {
  let shifts = 0;
  let previousLength = 0;
  for (const [i, pass] of passes.entries()) {
    const contexts = pass.contexts;
    const length = (contexts[0] as number[]).length;
    const shifted = i > 0 && length <= previousLength;
    previousLength = length;
    if (shifted) {
      shifts++;
      expect(contexts[0], `pass ${i}`).toHaveLength(KEEP + recentAfterShift(KEEP, MAX_SEQ_LEN));
    }
    const end = firstEnd + i;
    for (const [b, context] of contexts.entries()) {
      const all = sequences[b] as number[];
      const recentFrom = end + 1 - (context.length - KEEP);
      expect(context.length).toBeLessThanOrEqual(MAX_SEQ_LEN);
      expect(recentFrom).toBeGreaterThanOrEqual(KEEP);
      expect(context, `pass ${i}, sequence ${b}`).toEqual([...all.slice(0, KEEP), ...all.slice(recentFrom, end + 1)]);
    }
    const logits = await fresh.model.forward(contexts, 0);
    const vocab = fresh.model.args.vocabSize;
    contexts.forEach((_, b) => {
      const diff = maxAbsDiff(pass.last[b] as Float32Array, logits.subarray(b * vocab, (b + 1) * vocab));
      expect(diff, `pass ${i}, sequence ${b}`).toBeLessThanOrEqual(tolerance);
    });
  }
  return shifts;
}

describe.each(BACKENDS)('context shift on %s', (name) => {
  let fresh: Llama | undefined;
  beforeAll(async () => {
    const backend = backends.find(name);
    if (backend) fresh = await goldenLlama(backend, { maxSeqLen: MAX_SEQ_LEN, maxBatchSize: 2 });
  });
  afterAll(() => fresh?.dispose());

  it('generates past the context, and after every shift the logits equal a fresh prefill of the kept tokens', async (context) => {
    const backend = backends.get(name, context.skip);
    const { model, llama } = await recordingLlama(backend);
    const result = await llama.generate([golden.tokens], {
      ...greedy,
      maxGenLen: 60,
      contextShift: { keep: KEEP },
      echo: true,
    });
    const sequence = result.tokens[0] as number[];
    expect(sequence.slice(0, 24)).toEqual(golden.tokens);
    expect(sequence).toHaveLength(24 + 60);
    // Up to the first shift it is the plain generation.
    expect(sequence.slice(24, 24 + 8)).toEqual(golden.greedy.tokens.slice(0, 8));
    const shifts = await expectEveryPassAFreshPrefill(model.passes, [sequence], 23, fresh as Llama, TOLERANCE[name]);
    // 84 tokens through a 32-position cache keeping 3 + 15: shifts at positions 33, 48, 63 and 78.
    expect(shifts).toBe(4);
    expect(result.usage.contextShifts).toBe(4);
    llama.dispose();
  });

  it('a prompt longer than the context starts from its first keep and most recent tokens', async (context) => {
    const backend = backends.get(name, context.skip);
    const { model, llama } = await recordingLlama(backend);
    const prompt = [...golden.tokens, ...golden.tokens.slice(0, 20)];
    const result = await llama.generate([prompt], { ...greedy, maxGenLen: 20, contextShift: { keep: KEEP } });
    expect(result.tokens[0]).toHaveLength(20);
    const first = model.passes[0] as RecordedPass;
    const recent = recentAfterShift(KEEP, MAX_SEQ_LEN);
    expect(first.contexts[0]).toEqual([...prompt.slice(0, KEEP), ...prompt.slice(prompt.length - recent)]);
    const sequence = [...prompt, ...(result.tokens[0] as number[])];
    await expectEveryPassAFreshPrefill(model.passes, [sequence], prompt.length - 1, fresh as Llama, TOLERANCE[name]);
    llama.dispose();
  });
});

describe('context shift semantics', () => {
  let llama: Llama;
  beforeAll(async () => {
    llama = await goldenLlama(
      backends.get('cpu', () => undefined as never),
      { maxSeqLen: MAX_SEQ_LEN },
    );
  });
  afterAll(() => llama.dispose());
  const shift = { contextShift: { keep: KEEP } };

  it('is off by default: the reference stops at the context', async () => {
    const result = await llama.generate([golden.tokens], { ...greedy, maxGenLen: 60 });
    expect(result.tokens[0]).toEqual(golden.greedy.tokens.slice(0, MAX_SEQ_LEN - 24));
    expect(result.usage.contextShifts).toBe(0);
    await expect(llama.generate([new Array(MAX_SEQ_LEN + 1).fill(1)], greedy)).rejects.toThrow(
      `generate: prompt 0 has 33 tokens, longer than the context (maxSeqLen ${MAX_SEQ_LEN})`,
    );
  });

  it('a ragged batch equals each prompt alone across shifts', async () => {
    const prompts = [golden.tokens, golden.tokens.slice(0, 9)];
    const options = { ...greedy, ...shift, maxGenLen: 50, logprobs: true };
    const batch = await llama.generate(prompts, options);
    for (const [i, prompt] of prompts.entries()) {
      const alone = await llama.generate([prompt], options);
      expect(batch.tokens[i], `prompt ${i}`).toEqual(alone.tokens[0]);
      expect(batch.tokens[i]).toHaveLength(50);
      (batch.logprobs?.[i] ?? []).forEach((v, t) => {
        expect(Math.abs(v - (alone.logprobs?.[0]?.[t] ?? 0)), `prompt ${i}, token ${t}`).toBeLessThan(1e-4);
      });
    }
  });

  it('streams the same tokens as generate, to maxGenLen, across shifts', async () => {
    const options = { ...greedy, ...shift, maxGenLen: 70 };
    const whole = await llama.generate([golden.tokens], options);
    const deltas: StreamDelta[] = [];
    const stream = llama.stream(golden.tokens, options);
    let step = await stream.next();
    for (; !step.done; step = await stream.next()) deltas.push(step.value);
    expect(deltas.map((d) => d.token)).toEqual(whole.tokens[0]);
    expect(step.value).toMatchObject({ finishReason: 'length', tokens: whole.tokens[0] });
    expect(step.value.usage.contextShifts).toBeGreaterThan(2);
  });

  it('stops on a stop token, a stop string and an abort after a shift', async () => {
    const options = { ...greedy, ...shift, maxGenLen: 70 };
    const whole = (await llama.generate([golden.tokens], options)).tokens[0] as number[];
    // A token that first appears well after the first shift (generated token 8 is at position 32).
    const at = whole.findIndex((id, i) => i >= 20 && !whole.slice(0, i).includes(id));
    expect(at, 'a token first generated after a shift').toBeGreaterThan(0);
    const stopToken = whole[at] as number;

    const stopping = await goldenLlama(
      backends.get('cpu', () => undefined as never),
      {
        maxSeqLen: MAX_SEQ_LEN,
        stopTokens: [stopToken],
      },
    );
    const byToken = await stopping.generate([golden.tokens], options);
    expect(byToken.tokens[0]).toEqual(whole.slice(0, at));
    stopping.dispose();

    const text = (await collect(llama.stream(golden.tokens, { ...options, stop: [`<${stopToken}>`] }))).summary;
    expect(text).toMatchObject({
      finishReason: 'stop',
      text: whole
        .slice(0, at)
        .map((id) => `<${id}>`)
        .join(''),
    });

    const controller = new AbortController();
    let count = 0;
    for await (const _ of llama.stream(golden.tokens, { ...options, signal: controller.signal })) {
      if (++count === 40) controller.abort();
    }
    expect(count).toBe(40);
  });

  it('refuses a bad keep, and a too-long prompt whose tokens echo would score', async () => {
    await expect(llama.generate([golden.tokens], { contextShift: { keep: 31 } })).rejects.toThrow(
      'contextShift.keep must be an integer from 0 to maxSeqLen - 2 (30), got 31',
    );
    await expect(llama.generate([golden.tokens], { contextShift: { keep: 1.5 } })).rejects.toThrow(GenerationError);
    await expect(llama.generate([golden.tokens], { contextShift: 'yes' as never })).rejects.toThrow(
      'contextShift must be true, false or { keep }, got yes',
    );
    const long = new Array(40).fill(1);
    await expect(llama.generate([long], { ...shift, echo: true, logprobs: true })).rejects.toThrow(
      'with echo and logprobs every prompt token is scored, so the prompt must fit',
    );
  });
});

describe('planStep and the default keep', () => {
  it('keeps bos by default when every prompt starts with it', () => {
    expect(resolveContextShift(true, [[7, 1, 2]], 7, 32)).toBe(1);
    expect(
      resolveContextShift(
        true,
        [
          [7, 1],
          [1, 7],
        ],
        7,
        32,
      ),
    ).toBe(0);
    expect(resolveContextShift({}, [[7]], undefined, 32)).toBe(0);
    expect(resolveContextShift(false, [[7]], 7, 32)).toBeUndefined();
  });

  it('feeds the next positions while they fit, then the kept tokens not cached and the recent half', () => {
    expect(planStep({ keep: 2, dropped: 0 }, 9, 10, 10)).toMatchObject({ positions: [9], startPos: 9, shifted: false });
    // Position 10 would not fit: keep 0-1 (cached), then the most recent ceil((10 - 2) / 2) = 4.
    expect(planStep({ keep: 2, dropped: 0 }, 10, 11, 10)).toEqual({
      positions: [7, 8, 9, 10],
      startPos: 2,
      window: { keep: 2, dropped: 5 },
      shifted: true,
    });
    expect(planStep({ keep: 2, dropped: 5 }, 11, 12, 10)).toMatchObject({ positions: [11], startPos: 6 });
    // A first pass over a prompt longer than the context feeds the kept tokens too.
    expect(planStep({ keep: 2, dropped: 0 }, 0, 14, 10)).toMatchObject({
      positions: [0, 1, 10, 11, 12, 13],
      startPos: 0,
    });
    expect(planStep(undefined, 3, 8, 10)).toMatchObject({ positions: [3, 4, 5, 6, 7], startPos: 3, shifted: false });
  });
});

async function collect(stream: AsyncGenerator<StreamDelta, { finishReason: string; text: string }>) {
  const deltas: StreamDelta[] = [];
  let result = await stream.next();
  while (!result.done) {
    deltas.push(result.value);
    result = await stream.next();
  }
  return { deltas, summary: result.value };
}

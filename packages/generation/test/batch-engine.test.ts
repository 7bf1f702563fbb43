// The continuous-batching engine: concurrent requests give the tokens each gives alone; requests
// join and leave mid-batch; cancel frees the slot; a prompt that extends a slot's cache reuses it.
import { type Backend, createBackend } from '@llama-ts/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchEngine,
  type BatchLanguageModel,
  type BatchRequest,
  type BatchStream,
  GenerationError,
  type Llama,
  QueueFullError,
  type StreamDelta,
} from '../src/index.js';
import { golden, goldenLlama } from './fixtures.js';

const BACKENDS = {
  cpu: () => createBackend({ kind: 'cpu' }),
  'wasm-2': () => createBackend({ kind: 'wasm', threads: 2, minWorkPerThread: 1, log: null }),
} as const;

const tokens = golden.tokens;
/** Prompts of different lengths (1 to 24 tokens), so the sequences sit at different positions. */
const PROMPTS = [tokens.slice(0, 9), tokens.slice(4, 24), tokens.slice(10, 11), tokens.slice(2, 15)];

async function drain(stream: BatchStream): Promise<StreamDelta[]> {
  const deltas: StreamDelta[] = [];
  for await (const delta of stream) deltas.push(delta);
  return deltas;
}

/** Runs each request on an engine of one slot, one after another: what each gives alone. */
async function alone(llama: Llama, requests: BatchRequest[]): Promise<number[][]> {
  const engine = llama.batchEngine({ parallel: 1, prefillChunk: 1000 });
  const out: number[][] = [];
  for (const request of requests) out.push((await engine.submit(request).done).tokens);
  return out;
}

describe.each(Object.keys(BACKENDS) as (keyof typeof BACKENDS)[])('BatchEngine on %s', (name) => {
  let backend: Backend;
  let llama: Llama;

  beforeAll(async () => {
    backend = await BACKENDS[name]();
    llama = await goldenLlama(backend, { maxSeqLen: 64, maxBatchSize: 4 });
  });

  afterAll(() => {
    llama.dispose();
    backend.destroy();
  });

  it('N concurrent greedy requests give the same tokens as each alone (and as generate)', async () => {
    const requests = PROMPTS.map((prompt) => ({ prompt, temperature: 0, maxGenLen: 12 }));
    const expected = await alone(llama, requests);
    for (const [i, prompt] of PROMPTS.entries()) {
      const reference = await llama.generate([prompt], { temperature: 0, maxGenLen: 12 });
      expect(expected[i], `prompt ${i} alone vs generate`).toEqual(reference.tokens[0]);
    }
    // Chunks of 5: the longer prompts prefill over several steps while the others decode.
    const engine = llama.batchEngine({ parallel: 4, prefillChunk: 5 });
    const streams = requests.map((request) => engine.submit(request));
    const results = await Promise.all(streams.map(drain));
    results.forEach((deltas, i) => {
      expect(
        deltas.map((d) => d.token),
        `prompt ${i}`,
      ).toEqual(expected[i]);
    });
    const summaries = await Promise.all(streams.map((s) => s.done));
    summaries.forEach((summary, i) => {
      expect(summary.tokens).toEqual(expected[i]);
      expect(summary.finishReason).toBe('length');
      expect(summary.text).toBe((expected[i] as number[]).map((id) => `<${id}>`).join(''));
      expect(summary.usage.generatedTokens).toBe(12);
      expect(summary.usage.prefilledTokens).toBe((PROMPTS[i] as number[]).length);
    });
    expect(engine.stats).toMatchObject({ active: 0, queued: 0, parallel: 4 });
  });

  it('requests join and leave mid-batch', async () => {
    const [a, b, c] = [
      { prompt: PROMPTS[0] as number[], temperature: 0, maxGenLen: 20 },
      { prompt: PROMPTS[1] as number[], temperature: 0, maxGenLen: 3 },
      { prompt: PROMPTS[2] as number[], temperature: 0, maxGenLen: 6 },
    ];
    const expected = await alone(llama, [a, b, c]);
    const engine = llama.batchEngine({ parallel: 2, prefillChunk: 8 });
    const streamA = engine.submit(a);
    const seenA: number[] = [];
    let tokensB: Promise<number[]> | undefined;
    let tokensC: Promise<number[]> | undefined;
    const atLeave = { aSoFar: -1, active: -1 };
    for await (const delta of streamA) {
      seenA.push(delta.token);
      if (seenA.length === 3) {
        // B joins the running batch; when it leaves, C takes its slot while A keeps going.
        tokensB = drain(engine.submit(b)).then((deltas) => {
          atLeave.aSoFar = seenA.length;
          atLeave.active = engine.stats.active;
          tokensC = drain(engine.submit(c)).then((ds) => ds.map((d) => d.token));
          return deltas.map((d) => d.token);
        });
      }
    }
    expect(seenA).toEqual(expected[0]);
    expect(await tokensB).toEqual(expected[1]);
    expect(await tokensC).toEqual(expected[2]);
    expect(atLeave.aSoFar).toBeGreaterThan(3);
    expect(atLeave.aSoFar).toBeLessThan(20);
    expect(atLeave.active).toBe(1); // only A: B's slot was free for C
  });

  it('cancel ends the stream and frees the slot for the next request', async () => {
    const long = { prompt: PROMPTS[0] as number[], temperature: 0, maxGenLen: 40 };
    const next = { prompt: PROMPTS[3] as number[], temperature: 0, maxGenLen: 5 };
    const [expectedNext] = await alone(llama, [next]);
    const engine = llama.batchEngine({ parallel: 1 });
    const first = engine.submit(long);
    const second = engine.submit(next);
    expect(engine.stats).toMatchObject({ active: 1, queued: 1 });
    let count = 0;
    for await (const _ of first) {
      if (++count === 2) first.cancel();
    }
    const summary = await first.done;
    expect(summary.finishReason).toBe('abort');
    expect(summary.tokens.length).toBe(2);
    expect((await second.done).tokens).toEqual(expectedNext);

    // Leaving a for-await early cancels too; so does an AbortSignal, and a queued request can be cancelled.
    const broken = engine.submit(long);
    for await (const _ of broken) break;
    expect((await broken.done).finishReason).toBe('abort');
    const controller = new AbortController();
    const aborted = engine.submit({ ...long, signal: controller.signal });
    const queued = engine.submit(next);
    queued.cancel();
    expect((await queued.done).finishReason).toBe('abort');
    controller.abort();
    expect((await aborted.done).finishReason).toBe('abort');
    expect(engine.stats).toMatchObject({ active: 0, queued: 0 });
    expect((await engine.submit(next).done).tokens).toEqual(expectedNext);
  });

  it('a prompt that extends a slot cache reuses its prefix and gives the same tokens as without reuse', async () => {
    const turn1 = { prompt: PROMPTS[1] as number[], temperature: 0, maxGenLen: 6 };
    const engine = llama.batchEngine({ parallel: 2, prefillChunk: 4 });
    // Another request fills the other slot first, so the reuse has to pick the right slot.
    await engine.submit({ prompt: PROMPTS[2] as number[], temperature: 0, maxGenLen: 3 }).done;
    const first = await engine.submit(turn1).done;
    const turn2 = { prompt: [...turn1.prompt, ...first.tokens, 7, 8, 9], temperature: 0, maxGenLen: 8 };
    const second = await engine.submit(turn2).done;
    // Every token fed before the last generated one is in the cache: 20 prompt + 5 generated.
    expect(second.usage.prefilledTokens).toBe(turn2.prompt.length - (turn1.prompt.length + 5));
    const [fresh] = await alone(llama, [turn2]);
    expect(second.tokens).toEqual(fresh);
    // A prompt equal to the cache still runs its last token.
    const again = await engine.submit(turn2).done;
    expect(again.usage.prefilledTokens).toBe(1);
    expect(again.tokens).toEqual(fresh);
  });

  it('seeded sampling and logprobs do not depend on the batch', async () => {
    const requests = PROMPTS.map((prompt, i) => ({
      prompt,
      temperature: 0.9,
      topP: 0.95,
      seed: 10 + i,
      maxGenLen: 8,
      logprobs: true,
    }));
    const engineAlone = llama.batchEngine({ parallel: 1 });
    const single: StreamDelta[][] = [];
    for (const request of requests) single.push(await drain(engineAlone.submit(request)));
    const engine = llama.batchEngine({ parallel: 4, prefillChunk: 6 });
    const batched = await Promise.all(requests.map((request) => drain(engine.submit(request))));
    batched.forEach((deltas, i) => {
      expect(deltas.map((d) => d.token)).toEqual((single[i] as StreamDelta[]).map((d) => d.token));
      deltas.forEach((d, t) => {
        expect(Math.abs((d.logprob as number) - ((single[i] as StreamDelta[])[t]?.logprob as number))).toBeLessThan(
          1e-3,
        );
      });
    });
    // Greedy logprobs equal generate's.
    const greedy = await drain(
      llama.batchEngine().submit({ prompt: PROMPTS[0] as number[], temperature: 0, maxGenLen: 6, logprobs: true }),
    );
    const reference = await llama.generate([PROMPTS[0] as number[]], { temperature: 0, maxGenLen: 6, logprobs: true });
    greedy.forEach((d, t) => {
      expect(Math.abs((d.logprob as number) - (reference.logprobs?.[0]?.[t] as number))).toBeLessThan(1e-3);
    });
  });
});

describe('BatchEngine requests and limits', () => {
  let backend: Backend;
  let llama: Llama;
  let engine: BatchEngine;

  beforeAll(async () => {
    backend = await createBackend({ kind: 'cpu' });
    llama = await goldenLlama(backend, { maxSeqLen: 32, maxBatchSize: 2 });
    engine = llama.batchEngine({ parallel: 1, queueLimit: 1 });
  });

  afterAll(() => {
    llama.dispose();
    backend.destroy();
  });

  it('stops on stop tokens and stop strings', async () => {
    const [plain] = await alone(llama, [{ prompt: PROMPTS[0] as number[], temperature: 0, maxGenLen: 10 }]);
    const third = (plain as number[])[2] as number;
    const byToken = await engine.submit({
      prompt: PROMPTS[0] as number[],
      temperature: 0,
      maxGenLen: 10,
      stopTokens: [third],
    }).done;
    expect(byToken).toMatchObject({ finishReason: 'stop', tokens: (plain as number[]).slice(0, 2) });
    const byString = await engine.submit({
      prompt: PROMPTS[0] as number[],
      temperature: 0,
      maxGenLen: 10,
      stop: [`<${third}>`],
    }).done;
    expect(byString.finishReason).toBe('stop');
    expect(byString.text).toBe(
      (plain as number[])
        .slice(0, 2)
        .map((id) => `<${id}>`)
        .join(''),
    );
  });

  it('a full queue is a QueueFullError; the context bounds the tokens', async () => {
    const running = engine.submit({ prompt: [1, 2, 3], temperature: 0, maxGenLen: 5 });
    const waiting = engine.submit({ prompt: [1, 2, 3], temperature: 0, maxGenLen: 5 });
    expect(() => engine.submit({ prompt: [1, 2, 3] })).toThrow(QueueFullError);
    expect(() => engine.submit({ prompt: [1, 2, 3] })).toThrow('the queue is full (1 requests waiting)');
    await Promise.all([running.done, waiting.done]);
    const long = await engine.submit({ prompt: tokens.slice(0, 24), temperature: 0 }).done;
    expect(long).toMatchObject({ finishReason: 'length' });
    expect(long.tokens.length).toBe(32 - 24);
  });

  it('bad requests and options are GenerationErrors naming the field', () => {
    const bad = (request: unknown, message: string) =>
      expect(() => engine.submit(request as BatchRequest)).toThrow(message);
    bad({ prompt: [] }, 'prompt must be a non-empty array of token ids');
    bad({ prompt: [1, 512] }, 'prompt[1] is 512; expected a token id in 0..511');
    bad(
      { prompt: tokens.concat(tokens).slice(0, 32) },
      'prompt has 32 tokens; the context (maxSeqLen 32) leaves no room',
    );
    bad({ prompt: [1], maxGenLen: -1 }, 'maxGenLen must be an integer ≥ 0');
    bad({ prompt: [1], temperature: -1 }, 'temperature');
    bad({ prompt: [1], stop: [''] }, 'stop must be an array of non-empty strings');
    expect(() => llama.batchEngine({ parallel: 3 })).toThrow(
      "parallel must be an integer in 1..2 (the model's maxBatchSize), got 3",
    );
    expect(() => llama.batchEngine({ prefillChunk: 0 })).toThrow(GenerationError);
    const closed = llama.batchEngine();
    closed.close();
    expect(() => closed.submit({ prompt: [1] })).toThrow('the engine is closed');
  });
});

describe('BatchEngine when the model fails', () => {
  it('ends the requests of the failed step with the error and keeps serving', async () => {
    let failNext = false;
    const model: BatchLanguageModel = {
      args: { maxSeqLen: 16, maxBatchSize: 2, vocabSize: 4 },
      forward: () => Promise.reject(new Error('not used')),
      // Greedy picks (last token + 1) % 4: the tokens are known without a real model.
      forwardBatch: async (rows) => {
        if (failNext) {
          failNext = false;
          throw new Error('device lost');
        }
        const logits = new Float32Array(rows.length * 4);
        rows.forEach((row, b) => {
          logits[b * 4 + (((row.tokens.at(-1) as number) + 1) % 4)] = 1;
        });
        return logits;
      },
    };
    const engine = new BatchEngine({ model, parallel: 2 });
    expect((await engine.submit({ prompt: [0], temperature: 0, maxGenLen: 5 }).done).tokens).toEqual([1, 2, 3, 0, 1]);
    failNext = true;
    const failed = engine.submit({ prompt: [2, 3], temperature: 0, maxGenLen: 5 });
    await expect(failed.done).rejects.toThrow('device lost');
    await expect(drain(failed)).rejects.toThrow('device lost');
    expect(engine.stats).toMatchObject({ active: 0, queued: 0 });
    expect((await engine.submit({ prompt: [2, 3], temperature: 0, maxGenLen: 3 }).done).tokens).toEqual([0, 1, 2]);
  });
});

// Streaming: the deltas add up to the non-streamed generation; stop strings and abort.
import { type Backend, createBackend } from '@llama-ts/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Llama, StreamDelta } from '../src/index.js';
import { StopStringFilter } from '../src/stream.js';
import { golden, goldenLlama } from './fixtures.js';

let backend: Backend;
let llama: Llama;
const prompt = golden.tokens.map((id) => `<${id}>`).join('');

beforeAll(async () => {
  backend = await createBackend({ kind: 'cpu' });
  llama = await goldenLlama(backend);
});

afterAll(() => {
  llama.dispose();
  backend.destroy();
});

async function collect(stream: AsyncGenerator<StreamDelta, unknown>) {
  const deltas: StreamDelta[] = [];
  let result = await stream.next();
  while (!result.done) {
    deltas.push(result.value);
    result = await stream.next();
  }
  return {
    deltas,
    summary: result.value as {
      tokens: number[];
      text: string;
      finishReason: string;
      usage: { generatedTokens: number };
    },
  };
}

describe('stream', () => {
  it('adds up to the non-streamed generation', async () => {
    const { deltas, summary } = await collect(llama.stream(prompt, { temperature: 0, maxGenLen: 16, logprobs: true }));
    const [plain] = await llama.textCompletion([prompt], { temperature: 0, maxGenLen: 16, logprobs: true });
    expect(deltas.map((d) => d.text).join('')).toBe(plain?.generation);
    expect(deltas.map((d) => d.token)).toEqual(plain?.tokenIds);
    deltas.forEach((d, i) => {
      expect(Math.abs((d.logprob as number) - (plain?.logprobs?.[i] as number))).toBeLessThan(1e-4);
    });
    expect(summary).toMatchObject({ finishReason: 'length', text: plain?.generation });
    expect(summary.usage.generatedTokens).toBe(16);
  });

  it('topLogprobs: the greedy token heads each list, with its own log-prob, most likely first', async () => {
    const { deltas } = await collect(llama.stream(prompt, { temperature: 0, maxGenLen: 6, topLogprobs: 3 }));
    expect(deltas.map((d) => d.token)).toEqual(golden.greedy.tokens.slice(0, 6));
    for (const delta of deltas) {
      const top = delta.topLogprobs ?? [];
      expect(top).toHaveLength(3);
      expect(top[0]?.token).toBe(delta.token);
      expect(top[0]?.logprob).toBeCloseTo(delta.logprob as number, 5);
      expect(top[0]?.logprob).toBeGreaterThanOrEqual(top[1]?.logprob as number);
      expect(top[1]?.logprob).toBeGreaterThanOrEqual(top[2]?.logprob as number);
      expect(top.every((t) => t.logprob <= 0)).toBe(true);
    }
  });

  it('a presence penalty changes a greedy continuation that repeats tokens; 0 leaves it as it was', async () => {
    const plain = await collect(llama.stream(prompt, { temperature: 0, maxGenLen: 16 }));
    const zero = await collect(llama.stream(prompt, { temperature: 0, maxGenLen: 16, presencePenalty: 0 }));
    expect(zero.summary.tokens).toEqual(plain.summary.tokens);
    const penalised = await collect(
      llama.stream(prompt, { temperature: 0, maxGenLen: 16, presencePenalty: 2, frequencyPenalty: 2 }),
    );
    expect(penalised.summary.tokens).not.toEqual(plain.summary.tokens);
  });

  it('stops on a stop string split across tokens without emitting any of it', async () => {
    // Greedy continuation spelled "<448><506><94><180>…": stop at "6><9", which spans two tokens.
    const { deltas, summary } = await collect(llama.stream(prompt, { temperature: 0, maxGenLen: 16, stop: ['6><9'] }));
    expect(deltas.map((d) => d.text).join('')).toBe('<448><50');
    expect(summary.finishReason).toBe('stop');
    expect(summary.tokens).toEqual(golden.greedy.tokens.slice(0, 3));
  });

  it('stops within one token of an abort', async () => {
    const controller = new AbortController();
    const deltas: StreamDelta[] = [];
    const stream = llama.stream(prompt, { temperature: 0, maxGenLen: 16, signal: controller.signal });
    for await (const delta of stream) {
      deltas.push(delta);
      if (deltas.length === 2) controller.abort();
    }
    expect(deltas).toHaveLength(2);
  });
});

describe('StopStringFilter', () => {
  it('holds back a possible prefix and releases it when it does not match', () => {
    const filter = new StopStringFilter(['</s>', 'END']);
    expect(filter.push('hello <')).toEqual({ text: 'hello ', stopped: false });
    expect(filter.push('/x')).toEqual({ text: '</x', stopped: false });
    expect(filter.push(' E')).toEqual({ text: ' ', stopped: false });
    expect(filter.push('ND more')).toEqual({ text: '', stopped: true });
    expect(new StopStringFilter(['ab']).push('xxa')).toEqual({ text: 'xx', stopped: false });
  });
});

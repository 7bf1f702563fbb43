// `serve --parallel N`: continuous batching over real HTTP on loopback, and the context shift of
// requests. Assertions are about tokens, ordering and completion, never about how long something took.
import { request } from 'node:http';
import { Llama } from '@llama-ts/generation';
import { goldenDir, goldenExpected } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchingEngine, type RunningServer, startServer } from '../src/server/index.js';
import { runCli } from './helpers.js';
import { events, http, post, waitFor } from './http-client.js';

const golden = goldenExpected('tiny-meta-bf16');
const spell = (ids: readonly number[]) => ids.map((id) => `<${id}>`).join('');
/** Prompts of different lengths, so the sequences sit at different positions in their slots. */
const PROMPTS = [golden.tokens, golden.tokens.slice(0, 9), golden.tokens.slice(10, 11), golden.tokens.slice(2, 15)].map(
  spell,
);

function goldenLlama(maxBatchSize: number, maxSeqLen = 4096): Promise<Llama> {
  return Llama.build({
    ckptDir: goldenDir('tiny-meta-bf16'),
    backend: 'cpu',
    withoutTokenizer: 'ids',
    maxSeqLen,
    maxBatchSize,
  });
}

/** A streamed completion whose text arrives chunk by chunk; `abort` leaves it as a client would. */
function openStream(url: string, body: object) {
  let text = '';
  let ended = false;
  let firstChunk!: () => void;
  const started = new Promise<void>((resolve) => {
    firstChunk = resolve;
  });
  let destroy = () => {};
  const done = new Promise<string>((resolve, reject) => {
    const req = request(`${url}/v1/completions`, { method: 'POST' }, (res) => {
      let raw = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        raw += d;
        if (raw.includes('"text"')) firstChunk();
      });
      res.on('end', () => {
        ended = true;
        text = events(raw)
          .map((c) => (c.choices as { text: string }[])[0]?.text ?? '')
          .join('');
        resolve(text);
      });
      res.on('error', () => {});
    });
    destroy = () => req.destroy();
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end(JSON.stringify({ temperature: 0, stream: true, ...body }));
  });
  done.catch(() => {});
  return {
    started,
    done,
    get ended() {
      return ended;
    },
    abort: () => destroy(),
  };
}

async function complete(url: string, body: object): Promise<Record<string, unknown>> {
  const reply = await post(`${url}/v1/completions`, { temperature: 0, ...body });
  expect(reply.status, reply.body).toBe(200);
  return JSON.parse(reply.body);
}

const textOf = (body: Record<string, unknown>) => (body.choices as { text: string }[])[0]?.text;

describe('serve --parallel 4: continuous batching (the golden checkpoint)', () => {
  let llama: Llama;
  let engine: BatchingEngine;
  let server: RunningServer;
  const log: string[] = [];

  beforeAll(async () => {
    llama = await goldenLlama(4);
    engine = new BatchingEngine(llama.batchEngine({ parallel: 4, queueLimit: 4, prefillChunk: 8 }));
    server = await startServer({ llama, modelName: 'tiny', port: 0, engine, log: (line) => log.push(line) });
  });
  afterAll(async () => {
    await server?.close();
    engine?.close();
    llama?.dispose();
  });

  it('4 concurrent greedy streams give the tokens each gives alone (and the golden continuation)', async () => {
    const alone: string[] = [];
    for (const prompt of PROMPTS) alone.push(textOf(await complete(server.url, { prompt, max_tokens: 12 })) as string);
    expect(alone[0]).toBe(spell(golden.greedy.tokens.slice(0, 12)));
    const together = await Promise.all(
      PROMPTS.map((prompt) => openStream(server.url, { prompt, max_tokens: 12 }).done),
    );
    expect(together).toEqual(alone);
  });

  it('a request joining while another streams gets its own tokens, and both finish', async () => {
    const [expectedLong, expectedShort] = [
      textOf(await complete(server.url, { prompt: PROMPTS[1], max_tokens: 400 })),
      textOf(await complete(server.url, { prompt: PROMPTS[3], max_tokens: 5 })),
    ];
    const long = openStream(server.url, { prompt: PROMPTS[1], max_tokens: 400 });
    await long.started;
    const short = await complete(server.url, { prompt: PROMPTS[3], max_tokens: 5 });
    expect(long.ended).toBe(false); // it joined mid-batch, and left before the long one
    expect(textOf(short)).toBe(expectedShort);
    expect(await long.done).toBe(expectedLong);
  });

  it('with every slot streaming, a 5th request waits; a client that leaves frees its slot for it', async () => {
    const streams = PROMPTS.map((prompt) => openStream(server.url, { prompt, max_tokens: 4000 }));
    await Promise.all(streams.map((s) => s.started));
    const fifth = complete(server.url, { prompt: PROMPTS[2], max_tokens: 3 });
    await waitFor(() => engine.waiting === 1);
    const metrics = (await http(`${server.url}/metrics`, 'GET')).body;
    expect(metrics).toMatch(/^llama_ts_active_slots 4$/m);
    expect(metrics).toMatch(/^llama_ts_slots 4$/m);
    expect(metrics).toMatch(/^llama_ts_queue_depth 1$/m);
    (streams[0] as ReturnType<typeof openStream>).abort();
    expect(textOf(await fifth)).toBe(textOf(await complete(server.url, { prompt: PROMPTS[2], max_tokens: 3 })));
    expect(streams.slice(1).some((s) => s.ended)).toBe(false); // the others still stream
    for (const s of streams) s.abort();
    await waitFor(() => engine.active === 0 && engine.waiting === 0);
    expect(log.filter((line) => line.includes('finish=abort')).every((line) => / 499 /.test(line))).toBe(true);
    const health = JSON.parse((await http(`${server.url}/health`, 'GET')).body);
    expect(health).toMatchObject({ status: 'ok', queued: 0, active: 0, slots: 4 });
  });

  it('penalties, seeds, n and logprobs give what the one-at-a-time server gives', async () => {
    const serialLlama = await goldenLlama(1);
    const serial = await startServer({ llama: serialLlama, modelName: 'tiny', port: 0 });
    try {
      const bodies = [
        { prompt: PROMPTS[0], max_tokens: 16, presence_penalty: 2, frequency_penalty: 2 },
        { prompt: PROMPTS[1], max_tokens: 6, logprobs: 3 },
        { prompt: PROMPTS[3], max_tokens: 8, temperature: 0.9, seed: 7, n: 2 },
        { prompt: PROMPTS[0], max_tokens: 10, stop: [spell(golden.greedy.tokens.slice(3, 4))] },
      ];
      for (const body of bodies) {
        const [batched, alone] = await Promise.all([complete(server.url, body), complete(serial.url, body)]);
        const choices = (r: Record<string, unknown>) =>
          (r.choices as { text: string; finish_reason: string; logprobs: { tokens: string[] } | null }[]).map((c) => [
            c.text,
            c.finish_reason,
            c.logprobs?.tokens,
          ]);
        expect(choices(batched), JSON.stringify(body)).toEqual(choices(alone));
        expect(batched.usage).toEqual(alone.usage);
      }
    } finally {
      await serial.close();
      serialLlama.dispose();
    }
  });

  it('context_shift: true and n_keep are 400s naming the field (continuous batching has no shift)', async () => {
    const shift = await post(`${server.url}/v1/completions`, { prompt: PROMPTS[0], context_shift: true });
    expect(shift.status).toBe(400);
    expect(JSON.parse(shift.body).error.message).toMatch(/^context_shift is not available with continuous batching/);
    const keep = await post(`${server.url}/v1/completions`, { prompt: PROMPTS[0], n_keep: 1 });
    expect(keep.status).toBe(400);
    expect(JSON.parse(keep.body).error.message).toMatch(/^n_keep is for the context shift/);
    const off = await complete(server.url, { prompt: PROMPTS[0], max_tokens: 2, context_shift: false });
    expect(textOf(off)).toBe(spell(golden.greedy.tokens.slice(0, 2)));
  });
});

describe('serve --parallel 1: context shift per request (the golden checkpoint, 64 positions)', () => {
  let llama: Llama;
  let server: RunningServer;

  beforeAll(async () => {
    llama = await goldenLlama(1, 64);
    server = await startServer({ llama, modelName: 'tiny', port: 0, contextShift: true });
  });
  afterAll(async () => {
    await server?.close();
    llama?.dispose();
  });

  it('shifts by default past the context; context_shift: false stops at it', async () => {
    const shifted = await complete(server.url, { prompt: PROMPTS[0], max_tokens: 100 });
    expect(shifted.usage).toMatchObject({ prompt_tokens: 24, completion_tokens: 100 });
    expect((shifted.choices as { finish_reason: string }[])[0]?.finish_reason).toBe('length');
    const stopped = await complete(server.url, { prompt: PROMPTS[0], max_tokens: 100, context_shift: false });
    expect(stopped.usage).toMatchObject({ completion_tokens: 64 - 24 });
    // Up to the context both are the same greedy continuation.
    expect((textOf(shifted) as string).startsWith(textOf(stopped) as string)).toBe(true);
  });

  it('n_keep sets what a shift keeps; out of range, or with context_shift: false, it is a 400', async () => {
    const kept = await complete(server.url, { prompt: PROMPTS[0], max_tokens: 60, n_keep: 8 });
    expect(kept.usage).toMatchObject({ completion_tokens: 60 });
    const cases: [object, RegExp][] = [
      [{ n_keep: 63 }, /^n_keep must be an integer from 0 to 62/],
      [{ n_keep: -1 }, /^n_keep must be a non-negative integer/],
      [{ n_keep: 1, context_shift: false }, /^n_keep is for the context shift/],
      [{ context_shift: 'yes' }, /^context_shift must be a boolean/],
    ];
    for (const [fields, message] of cases) {
      const reply = await post(`${server.url}/v1/completions`, { prompt: PROMPTS[0], ...fields });
      expect(reply.status, JSON.stringify(fields)).toBe(400);
      expect(JSON.parse(reply.body).error.message).toMatch(message);
    }
  });

  it('a server without the default shift stops at the context unless a request asks', async () => {
    const plain = await startServer({ llama, modelName: 'tiny', port: 0 });
    try {
      expect((await complete(plain.url, { prompt: PROMPTS[0], max_tokens: 100 })).usage).toMatchObject({
        completion_tokens: 40,
      });
      const asked = await complete(plain.url, { prompt: PROMPTS[0], max_tokens: 100, context_shift: true });
      expect(asked.usage).toMatchObject({ completion_tokens: 100 });
    } finally {
      await plain.close();
    }
  });
});

describe('llama-ts serve: --parallel and context shift flags', () => {
  it('refuses --context-shift and --keep with --parallel > 1, and --max-batch-size below --parallel', async () => {
    const cases: [string[], string][] = [
      [['--context-shift'], '--context-shift needs --parallel 1'],
      [['--parallel', '2', '--keep', '1'], '--keep needs --parallel 1'],
      [['--parallel', '4', '--max-batch-size', '2'], '--max-batch-size 2 is below --parallel 4'],
      [['--parallel', '0'], '--parallel'],
    ];
    for (const [flags, message] of cases) {
      const result = await runCli(['serve', '--ckpt-dir', goldenDir('tiny-meta-bf16'), '--port', '0', ...flags]);
      expect(result.code, flags.join(' ')).not.toBe(0);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toMatch(/\n\s+at /); // one line, no stack
    }
  });
});

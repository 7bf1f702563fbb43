import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { idTokenizer, Llama } from '@llama-ts/generation';
import { loadModel } from '@llama-ts/model';
import { goldenDir, goldenExpected } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server/index.js';
import { CLI } from './helpers.js';
import { events, http, post, waitFor } from './http-client.js';
import { useRandomLlama3Server } from './random-llama3-server.js';

describe('serve: the golden checkpoint (ids spelled <n>)', () => {
  let server: RunningServer;
  let llama: Llama;
  const log: string[] = [];
  const expected = goldenExpected('tiny-meta-bf16');
  const prompt = expected.tokens.map((id) => `<${id}>`).join('');

  beforeAll(async () => {
    const model = await loadModel(goldenDir('tiny-meta-bf16'), { backend: 'cpu', maxSeqLen: 4096 });
    llama = new Llama(model, idTokenizer(model.args.vocabSize));
    server = await startServer({ llama, modelName: 'tiny-meta-bf16', port: 0, log: (line) => log.push(line) });
  });
  afterAll(async () => {
    await server?.close();
    llama?.dispose();
  });

  it('listens on loopback and lists the model', async () => {
    expect(server.host).toBe('127.0.0.1');
    const reply = await http(`${server.url}/v1/models`, 'GET');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body).data[0].id).toBe('tiny-meta-bf16');
  });

  it('POST /v1/completions greedy matches the golden continuation, with usage', async () => {
    const reply = await post(`${server.url}/v1/completions`, { prompt, max_tokens: 16, temperature: 0 });
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body);
    expect(body.object).toBe('text_completion');
    expect(body.choices[0].text).toBe(expected.greedy.tokens.map((id) => `<${id}>`).join(''));
    expect(body.choices[0].finish_reason).toBe('length');
    expect(body.usage).toEqual({ prompt_tokens: 24, completion_tokens: 16, total_tokens: 40 });
  });

  it('streams completions as server-sent events ending in [DONE]', async () => {
    const reply = await post(`${server.url}/v1/completions`, { prompt, max_tokens: 5, temperature: 0, stream: true });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/text\/event-stream/);
    const chunks = events(reply.body);
    const text = chunks.map((c) => (c.choices as { text: string }[])[0]?.text ?? '').join('');
    expect(text).toBe(
      expected.greedy.tokens
        .slice(0, 5)
        .map((id) => `<${id}>`)
        .join(''),
    );
    const last = chunks.at(-1) as { choices: { finish_reason: string }[]; usage: { completion_tokens: number } };
    expect(last.choices[0]?.finish_reason).toBe('length');
    expect(last.usage.completion_tokens).toBe(5);
  });

  it('validation errors are 400 with { error: { message, type } }', async () => {
    const cases: unknown[] = [
      '{"prompt": "<1>", ',
      '',
      '[1, 2]',
      {},
      { prompt: 42 },
      { prompt: '<1>', max_tokens: 'many' },
      { prompt: '<1>', temperature: -1 },
      { prompt: '<1>', stream: 'yes' },
      { prompt: '<1>'.repeat(5000) },
    ];
    for (const body of cases) {
      const reply = await post(`${server.url}/v1/completions`, body);
      expect(reply.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      const error = JSON.parse(reply.body).error;
      expect(typeof error.message).toBe('string');
      expect(error.type).toBe('invalid_request_error');
    }
    const notFound = await http(`${server.url}/v1/nothing`, 'GET');
    expect(notFound.status).toBe(404);
    const wrongMethod = await http(`${server.url}/v1/completions`, 'GET');
    expect(wrongMethod.status).toBe(405);
  });

  it('a client that disconnects mid-stream aborts its generation; the next request is served', async () => {
    log.length = 0;
    await new Promise<void>((resolve, reject) => {
      const req = request(`${server.url}/v1/completions`, { method: 'POST' }, (res) => {
        res.once('data', () => {
          req.destroy(); // leave after the first token
          resolve();
        });
      });
      req.on('error', (error) => {
        if (!req.destroyed) reject(error);
      });
      req.end(JSON.stringify({ prompt, max_tokens: 4000, temperature: 0, stream: true }));
    });
    await waitFor(() => log.some((line) => line.includes('finish=abort')));
    const line = log.find((l) => l.includes('finish=abort')) as string;
    const completion = Number(/completion=(\d+)/.exec(line)?.[1]);
    expect(completion).toBeLessThan(4000);
    const next = await post(`${server.url}/v1/completions`, { prompt, max_tokens: 3, temperature: 0 });
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body).usage.completion_tokens).toBe(3);
  });
});

describe('serve: chat with the Llama 3 tokenizer (a small random model)', () => {
  const server = useRandomLlama3Server();

  const messages = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Say hello.' },
  ];

  it('a non-streamed chat request', async () => {
    const reply = await post(`${server.url}/v1/chat/completions`, { messages, max_tokens: 6, temperature: 0 });
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body);
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0].message.role).toBe('assistant');
    expect(typeof body.choices[0].message.content).toBe('string');
    expect(['stop', 'length']).toContain(body.choices[0].finish_reason);
    expect(body.usage.prompt_tokens).toBeGreaterThan(10);
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it('a streamed chat request gives the same text', async () => {
    const plain = JSON.parse(
      (await post(`${server.url}/v1/chat/completions`, { messages, max_tokens: 6, temperature: 0 })).body,
    );
    const reply = await post(`${server.url}/v1/chat/completions`, {
      messages,
      max_tokens: 6,
      temperature: 0,
      stream: true,
    });
    expect(reply.status).toBe(200);
    const chunks = events(reply.body) as {
      object: string;
      choices: { delta: { role?: string; content?: string } }[];
    }[];
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(plain.choices[0].message.content);
  });

  it('20 concurrent streamed requests all complete', async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(`${server.url}/v1/chat/completions`, {
          messages: [{ role: 'user', content: `Count to ${i}.` }],
          max_tokens: 4,
          temperature: 0.8,
          seed: i,
          stream: true,
        }),
      ),
    );
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      const chunks = events(reply.body) as { choices: { finish_reason: string | null }[]; usage?: unknown }[];
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toMatch(/^(stop|length)$/);
      expect(chunks.at(-1)?.usage).toBeDefined();
    }
  });

  it('unknown roles and bad messages are 400', async () => {
    for (const body of [
      { messages: [{ role: 'wizard', content: 'hi' }] },
      { messages: [] },
      { messages: [{ role: 'user', content: 5 }] },
      { messages: 'hi' },
    ]) {
      const reply = await post(`${server.url}/v1/chat/completions`, body);
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body).error.message).toBeTruthy();
    }
  });
});

describe('llama-ts serve (the built CLI)', () => {
  it('prints its address and answers on it', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--ckpt-dir', goldenDir('tiny-meta-bf16'), '--backend', 'cpu', '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no address printed: ${out}`)), 30_000);
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.on('exit', () => reject(new Error(`serve exited: ${out}`)));
      });
      const reply = await post(`${url}/v1/completions`, { prompt: '<1><2><3>', max_tokens: 2, temperature: 0 });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body).usage.completion_tokens).toBe(2);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

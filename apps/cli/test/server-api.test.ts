import { Llama } from '@llama-ts/generation';
import { goldenDir, goldenExpected } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server/index.js';
import { events, http, post } from './http-client.js';
import { useRandomLlama3Server } from './random-llama3-server.js';

const golden = goldenExpected('tiny-meta-bf16');
const PROMPT = golden.tokens.map((id) => `<${id}>`).join('');
const spell = (ids: readonly number[]) => ids.map((id) => `<${id}>`).join('');

describe('serve: routes, CORS and the API key (the golden checkpoint)', () => {
  let llama: Llama;
  let open: RunningServer;
  let locked: RunningServer;
  const KEY = 'sk-test-123';

  beforeAll(async () => {
    llama = await Llama.build({ ckptDir: goldenDir('tiny-meta-bf16'), backend: 'cpu', withoutTokenizer: 'ids' });
    open = await startServer({ llama, modelName: 'tiny', port: 0, corsOrigin: 'https://app.example' });
    locked = await startServer({ llama, modelName: 'tiny', port: 0, apiKey: KEY, corsOrigin: '*' });
  });
  afterAll(async () => {
    await open?.close();
    await locked?.close();
    llama?.dispose();
  });

  it('HEAD answers the GET routes with their headers and no body', async () => {
    for (const path of ['/v1/models', '/health', '/metrics']) {
      const reply = await http(`${open.url}${path}`, 'HEAD');
      expect(reply.status, path).toBe(200);
      expect(reply.body).toBe('');
      expect(Number(reply.headers['content-length'])).toBeGreaterThan(0);
    }
  });

  it('a CORS preflight from an allowed origin gets 204 with the allowed methods and headers', async () => {
    const reply = await http(`${open.url}/v1/chat/completions`, 'OPTIONS', undefined, {
      Origin: 'https://app.example',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, content-type',
    });
    expect(reply.status).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(reply.headers['access-control-allow-methods']).toMatch(/POST/);
    expect(reply.headers['access-control-allow-headers']).toBe('authorization, content-type');
    const other = await http(`${open.url}/v1/chat/completions`, 'OPTIONS', undefined, {
      Origin: 'https://evil.example',
      'Access-Control-Request-Method': 'POST',
    });
    expect(other.status).toBe(204);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('responses carry Access-Control-Allow-Origin for allowed origins only', async () => {
    const allowed = await http(`${open.url}/v1/models`, 'GET', undefined, { Origin: 'https://app.example' });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(allowed.headers.vary).toMatch(/Origin/);
    const other = await http(`${open.url}/v1/models`, 'GET', undefined, { Origin: 'https://evil.example' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('with an API key: 401 without it or with a wrong one, 200 with it; /health and preflights stay open', async () => {
    const body = { prompt: PROMPT, max_tokens: 1, temperature: 0 };
    const none = await post(`${locked.url}/v1/completions`, body);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(none.body).error.type).toBe('authentication_error');
    expect((await post(`${locked.url}/v1/completions`, body, { Authorization: 'Bearer nope' })).status).toBe(401);
    expect((await http(`${locked.url}/v1/models`, 'GET')).status).toBe(401);
    expect((await http(`${locked.url}/metrics`, 'GET')).status).toBe(401);
    const good = await post(`${locked.url}/v1/completions`, body, { Authorization: `Bearer ${KEY}` });
    expect(good.status).toBe(200);
    expect((await http(`${locked.url}/health`, 'GET')).status).toBe(200);
    const preflight = await http(`${locked.url}/v1/completions`, 'OPTIONS', undefined, { Origin: 'https://x.example' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
  });

  it('warns in one line when listening beyond loopback without an API key, not with one', async () => {
    const warnings: string[] = [];
    const exposed = await startServer({
      llama,
      modelName: 'tiny',
      host: '0.0.0.0',
      port: 0,
      warn: (l) => warnings.push(l),
    });
    await exposed.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^llama-ts: warning: listening on 0\.0\.0\.0 without an API key/);
    expect(warnings[0]).not.toMatch(/\n/);
    const keyed = await startServer({
      llama,
      modelName: 'tiny',
      host: '0.0.0.0',
      port: 0,
      apiKey: 'k',
      warn: (l) => warnings.push(l),
    });
    await keyed.close();
    expect(warnings).toHaveLength(1);
  });

  it('/health and /metrics report requests, tokens, queue depth, active slots and tokens/s', async () => {
    const health = JSON.parse((await http(`${open.url}/health`, 'GET')).body);
    expect(health).toMatchObject({ status: 'ok', queued: 0, active: 0, slots: 1 });
    await post(`${open.url}/v1/completions`, { prompt: PROMPT, max_tokens: 5, temperature: 0 });
    await post(`${open.url}/v1/completions`, { prompt: 'words' });
    const reply = await http(`${open.url}/metrics`, 'GET');
    expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const metrics = reply.body;
    expect(metrics).toMatch(/^# TYPE llama_ts_requests_total counter$/m);
    expect(metrics).toMatch(/^llama_ts_requests_total\{path="\/v1\/completions",status="200"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^llama_ts_requests_total\{path="\/v1\/completions",status="400"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^llama_ts_prompt_tokens_total (2[4-9]|[3-9]\d|\d{3,})$/m);
    expect(metrics).toMatch(/^llama_ts_completion_tokens_total ([5-9]|\d{2,})$/m);
    expect(metrics).toMatch(/^llama_ts_queue_depth 0$/m);
    expect(metrics).toMatch(/^llama_ts_active_slots 0$/m);
    expect(metrics).toMatch(/^llama_ts_slots 1$/m);
    expect(metrics).toMatch(/^llama_ts_tokens_per_second \d+(\.\d+)?$/m);
  });
});

describe('serve: OpenAI fields (the golden checkpoint)', () => {
  let llama: Llama;
  let server: RunningServer;

  beforeAll(async () => {
    llama = await Llama.build({ ckptDir: goldenDir('tiny-meta-bf16'), backend: 'cpu', withoutTokenizer: 'ids' });
    server = await startServer({ llama, modelName: 'tiny', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    llama?.dispose();
  });

  const complete = async (body: Record<string, unknown>) => {
    const reply = await post(`${server.url}/v1/completions`, { max_tokens: 8, temperature: 0, ...body });
    expect(reply.status, reply.body).toBe(200);
    return JSON.parse(reply.body);
  };

  it('prompt as token ids gives the golden continuation, as the same prompt in text does', async () => {
    const fromIds = await complete({ prompt: golden.tokens, max_tokens: 16 });
    expect(fromIds.choices[0].text).toBe(spell(golden.greedy.tokens));
    expect(fromIds.usage.prompt_tokens).toBe(golden.tokens.length);
    const fromText = await complete({ prompt: PROMPT, max_tokens: 16 });
    expect(fromText.choices[0].text).toBe(fromIds.choices[0].text);
  });

  it('prompt as an array of token-id arrays (and of strings): one choice per prompt, each as alone', async () => {
    const first = golden.tokens.slice(0, 10);
    const second = golden.tokens.slice(5, 20);
    const both = await complete({ prompt: [first, second] });
    expect(both.choices.map((c: { index: number }) => c.index)).toEqual([0, 1]);
    expect(both.choices[0].text).toBe((await complete({ prompt: first })).choices[0].text);
    expect(both.choices[1].text).toBe((await complete({ prompt: second })).choices[0].text);
    expect(both.usage.prompt_tokens).toBe(25);
    const strings = await complete({ prompt: [spell(first), spell(second)] });
    expect(strings.choices.map((c: { text: string }) => c.text)).toEqual(
      both.choices.map((c: { text: string }) => c.text),
    );
  });

  it('n > 1 with a seed: choice i is the n = 1 answer seeded with seed + i, and it repeats', async () => {
    const sampled = { prompt: PROMPT, temperature: 1, top_p: 1, max_tokens: 12 };
    const three = await complete({ ...sampled, n: 3, seed: 7 });
    expect(three.choices).toHaveLength(3);
    expect(three.usage.completion_tokens).toBe(36);
    const texts = three.choices.map((c: { text: string }) => c.text);
    expect(texts[0]).toBe((await complete({ ...sampled, seed: 7 })).choices[0].text);
    expect(texts[2]).toBe((await complete({ ...sampled, seed: 9 })).choices[0].text);
    expect(new Set(texts).size).toBeGreaterThan(1);
    const again = await complete({ ...sampled, n: 3, seed: 7 });
    expect(again.choices.map((c: { text: string }) => c.text)).toEqual(texts);
  });

  it('n > 1 streamed: chunks carry each choice index, every choice ends with a finish reason', async () => {
    const reply = await post(`${server.url}/v1/completions`, {
      prompt: PROMPT,
      n: 2,
      max_tokens: 4,
      temperature: 0,
      stream: true,
    });
    const chunks = events(reply.body) as { choices: { index: number; text: string; finish_reason: string | null }[] }[];
    for (const index of [0, 1]) {
      const mine = chunks.flatMap((c) => c.choices.filter((choice) => choice.index === index));
      expect(mine.map((c) => c.text).join('')).toBe(spell(golden.greedy.tokens.slice(0, 4)));
      expect(mine.at(-1)?.finish_reason).toBe('length');
    }
  });

  it('stop ends the text before the stop string, with finish_reason stop', async () => {
    const stop = spell(golden.greedy.tokens.slice(2, 3));
    const body = await complete({ prompt: PROMPT, stop });
    expect(body.choices[0].text).toBe(spell(golden.greedy.tokens.slice(0, 2)));
    expect(body.choices[0].finish_reason).toBe('stop');
  });

  it('logprobs on completions: tokens, their log-probs, the top alternatives and text offsets', async () => {
    const body = await complete({ prompt: PROMPT, max_tokens: 4, logprobs: 3 });
    const lp = body.choices[0].logprobs;
    expect(lp.tokens).toEqual(golden.greedy.tokens.slice(0, 4).map((id) => `<${id}>`));
    expect(lp.token_logprobs).toHaveLength(4);
    expect(lp.top_logprobs).toHaveLength(4);
    lp.top_logprobs.forEach((top: Record<string, number>, i: number) => {
      expect(Object.keys(top)).toHaveLength(3);
      // Greedy: the chosen token is the most likely one.
      expect(Math.max(...Object.values(top))).toBeCloseTo(lp.token_logprobs[i], 5);
      expect(top[lp.tokens[i]]).toBeCloseTo(lp.token_logprobs[i], 5);
    });
    const offsets = lp.tokens.map((_: string, i: number) => lp.tokens.slice(0, i).join('').length);
    expect(lp.text_offset).toEqual(offsets);
    const streamed = events(
      (
        await post(`${server.url}/v1/completions`, {
          prompt: PROMPT,
          max_tokens: 4,
          temperature: 0,
          logprobs: 0,
          stream: true,
        })
      ).body,
    ) as { choices: { logprobs: { tokens: string[]; token_logprobs: number[] } | null }[] }[];
    const perToken = streamed.flatMap((c) => c.choices[0]?.logprobs?.token_logprobs ?? []);
    expect(perToken).toHaveLength(4);
    perToken.forEach((value, i) => {
      expect(value).toBeCloseTo(lp.token_logprobs[i], 5);
    });
  });

  it('presence and frequency penalties change a repetitive greedy answer; 0 changes nothing', async () => {
    const plain = (await complete({ prompt: PROMPT, max_tokens: 16 })).choices[0].text;
    expect(
      (await complete({ prompt: PROMPT, max_tokens: 16, presence_penalty: 0, frequency_penalty: 0 })).choices[0].text,
    ).toBe(plain);
    const penalised = await complete({ prompt: PROMPT, max_tokens: 16, presence_penalty: 2, frequency_penalty: 2 });
    expect(penalised.choices[0].text).not.toBe(plain);
  });

  it('user is accepted and ignored; response_format text is accepted', async () => {
    const body = await complete({ prompt: PROMPT, max_tokens: 2, user: 'someone', response_format: { type: 'text' } });
    expect(body.choices[0].text).toBe(spell(golden.greedy.tokens.slice(0, 2)));
  });

  it('bad values of the new fields are 400s naming the field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ response_format: { type: 'json_object' } }, /^response_format "json_object" is not supported/],
      [{ response_format: 'json' }, /^response_format/],
      [{ presence_penalty: 3 }, /^presence_penalty must be a number from -2 to 2/],
      [{ frequency_penalty: 'high' }, /^frequency_penalty must be/],
      [{ n: 0 }, /^n must be an integer from 1 to 16/],
      [{ logprobs: true }, /^logprobs must be an integer from 0 to 20/],
      [{ top_logprobs: 2 }, /^top_logprobs is a chat completions field/],
      [{ prompt: [1, 2, 512] }, /^prompt\[2\] is number 512; expected a token id, an integer from 0 to 511/],
      [{ prompt: [[1], []] }, /^prompt\[1\] is empty/],
      [{ prompt: [1.5] }, /^prompt\[0\] is number 1.5/],
      [{ prompt: [{}] }, /^prompt must be a string, an array of strings, an array of token ids/],
      [{ echo: true }, /^echo is not supported/],
      [{ prompt: Array.from({ length: 5000 }, () => 1) }, /has 5000 tokens, longer than the context/],
    ];
    for (const [fields, message] of cases) {
      const reply = await post(`${server.url}/v1/completions`, { prompt: PROMPT, ...fields });
      expect(reply.status, JSON.stringify(fields).slice(0, 60)).toBe(400);
      expect(JSON.parse(reply.body).error.message).toMatch(message);
    }
  });
});

describe('serve: chat logprobs and fields (a small random Llama 3 model)', () => {
  const server = useRandomLlama3Server();
  const messages = [{ role: 'user', content: 'Say hello.' }];

  it('logprobs with top_logprobs: one entry per token with its bytes and alternatives', async () => {
    const reply = await post(`${server.url}/v1/chat/completions`, {
      messages,
      max_tokens: 4,
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
    });
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body);
    const content = body.choices[0].logprobs.content as {
      token: string;
      logprob: number;
      bytes: number[];
      top_logprobs: { token: string; logprob: number }[];
    }[];
    expect(content).toHaveLength(body.usage.completion_tokens);
    for (const entry of content) {
      expect(entry.top_logprobs).toHaveLength(2);
      expect(entry.top_logprobs[0]?.token).toBe(entry.token);
      expect(entry.top_logprobs[0]?.logprob).toBeCloseTo(entry.logprob, 5);
      expect(Array.isArray(entry.bytes)).toBe(true);
    }
    expect(content.map((e) => Buffer.from(e.bytes).toString('utf8')).join('')).toBe(body.choices[0].message.content);
    const without = JSON.parse((await post(`${server.url}/v1/chat/completions`, { messages, max_tokens: 2 })).body);
    expect(without.choices[0].logprobs).toBeNull();
  });

  it('chat refuses top_logprobs without logprobs, and response_format json_object, naming the field', async () => {
    const a = await post(`${server.url}/v1/chat/completions`, { messages, top_logprobs: 2 });
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body).error.message).toMatch(/^top_logprobs needs logprobs: true/);
    const b = await post(`${server.url}/v1/chat/completions`, { messages, response_format: { type: 'json_object' } });
    expect(b.status).toBe(400);
    expect(JSON.parse(b.body).error.message).toMatch(/^response_format/);
  });

  it('n = 2 streamed chat: each choice opens with the assistant role and ends with a finish reason', async () => {
    const reply = await post(`${server.url}/v1/chat/completions`, {
      messages,
      n: 2,
      max_tokens: 3,
      temperature: 0,
      stream: true,
    });
    const chunks = events(reply.body) as {
      choices: { index: number; delta: { role?: string }; finish_reason: string | null }[];
    }[];
    for (const index of [0, 1]) {
      const mine = chunks.flatMap((c) => c.choices.filter((choice) => choice.index === index));
      expect(mine[0]?.delta.role).toBe('assistant');
      expect(mine.at(-1)?.finish_reason).toMatch(/^(stop|length)$/);
    }
  });
});

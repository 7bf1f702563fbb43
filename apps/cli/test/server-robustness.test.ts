// Nothing a client does stalls the others, over real HTTP on loopback: stalled readers, slowloris
// and unfinished bodies, huge prompts, aborts, the queue and body limits. Assertions are about
// ordering and completion, never about how long something took.
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Llama } from '@llama-ts/generation';
import { goldenDir } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server/index.js';
import { ResponseWriter } from '../src/server/writer.js';
import { post, rawConnection, waitFor } from './http-client.js';
import { useRandomLlama3Server } from './random-llama3-server.js';

const PROMPT = '<1><2><3>';

describe('serve: misbehaving clients (the golden checkpoint)', () => {
  let server: RunningServer;
  let llama: Llama;
  const log: string[] = [];

  beforeAll(async () => {
    llama = await Llama.build({
      ckptDir: goldenDir('tiny-meta-bf16'),
      backend: 'cpu',
      withoutTokenizer: 'ids',
      maxSeqLen: 4096,
    });
    server = await startServer({
      llama,
      modelName: 'tiny',
      port: 0,
      log: (line) => log.push(line),
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
      idleTimeoutMs: 300,
      writeTimeoutMs: 300,
      maxQueue: 2,
      maxBodyBytes: 4096,
    });
  });
  afterAll(async () => {
    await server?.close();
    llama?.dispose();
  });

  it('a client that stops reading its stream does not hold up the next request', async () => {
    const stalled = await rawConnection(server.url);
    const body = JSON.stringify({ prompt: PROMPT, max_tokens: 600, temperature: 0, stream: true });
    stalled.socket.write(
      `POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    stalled.socket.pause(); // never reads again
    await waitFor(() => server.queued === 1);
    const next = await post(`${server.url}/v1/completions`, { prompt: PROMPT, max_tokens: 2, temperature: 0 });
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body).usage.completion_tokens).toBe(2);
    // The server, not the client, ends the stalled connection: dropped when its socket stays full,
    // or closed when idle once its (buffered) response is out. (A paused socket sees the close only
    // after reading what came before it.)
    stalled.socket.resume();
    expect(await stalled.closed).toMatch(/data: \[DONE\]|^HTTP\/1\.1 200/);
  });

  it('slowloris: connections that send nothing, half the headers or half the body are closed', async () => {
    const silent = await rawConnection(server.url);
    const halfHeaders = await rawConnection(server.url);
    halfHeaders.socket.write('POST /v1/completions HTTP/1.1\r\nHost: x\r\n');
    const halfBody = await rawConnection(server.url);
    halfBody.socket.write(
      'POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"prompt":',
    );
    // Meanwhile a well-behaved client is served.
    const reply = await post(`${server.url}/v1/completions`, { prompt: PROMPT, max_tokens: 2, temperature: 0 });
    expect(reply.status).toBe(200);
    expect(await halfHeaders.closed).toMatch(/^(HTTP\/1\.1 408|$)/);
    expect(await halfBody.closed).toMatch(/^(HTTP\/1\.1 408|$)/);
    await silent.closed;
  });

  it('a client that aborts while sending its body is logged as an abort (499), not a 500', async () => {
    log.length = 0;
    const client = await rawConnection(server.url);
    const received = once(server.server, 'request');
    client.socket.write(
      'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"messages":',
    );
    await received; // the server is reading the body
    client.socket.destroy();
    await waitFor(() => log.some((line) => line.startsWith('POST /v1/chat/completions')));
    const line = log.find((l) => l.startsWith('POST /v1/chat/completions')) as string;
    expect(line).toMatch(/ 499 .*client aborted/);
    expect(line).not.toMatch(/ 500 /);
  });

  it('a client that leaves mid-stream is logged as an abort with its generation stopped', async () => {
    log.length = 0;
    await new Promise<void>((resolve, reject) => {
      const req = request(`${server.url}/v1/completions`, { method: 'POST' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (error) => {
        if (!req.destroyed) reject(error);
      });
      req.end(JSON.stringify({ prompt: PROMPT, max_tokens: 4000, temperature: 0, stream: true }));
    });
    await waitFor(() => log.some((line) => line.includes('finish=abort')));
    const line = log.find((l) => l.includes('finish=abort')) as string;
    expect(line).toMatch(/ 499 /);
    expect(Number(/completion=(\d+)/.exec(line)?.[1])).toBeLessThan(4000);
  });

  it('a full queue answers 503 with Retry-After; the queue drains and serves again', async () => {
    const controllers = Array.from({ length: 3 }, () => new AbortController());
    const long = controllers.map((c) =>
      fetch(`${server.url}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ prompt: PROMPT, max_tokens: 3000, temperature: 0, stream: true }),
        signal: c.signal,
      }).catch(() => undefined),
    );
    await waitFor(() => server.queued === 3); // one running, maxQueue (2) waiting
    const refused = await post(`${server.url}/v1/completions`, { prompt: PROMPT, max_tokens: 1 });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body).error.type).toBe('server_error');
    for (const c of controllers) c.abort();
    await Promise.all(long);
    await waitFor(() => server.queued === 0);
    const served = await post(`${server.url}/v1/completions`, { prompt: PROMPT, max_tokens: 1, temperature: 0 });
    expect(served.status).toBe(200);
  });

  it('a body over the limit is refused with 413', async () => {
    const reply = await post(`${server.url}/v1/completions`, { prompt: '<1>'.repeat(2000), max_tokens: 1 });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body).error.message).toMatch(/exceeds 4096 bytes/);
  });
});

describe('ResponseWriter: a reader that stops is dropped after the write timeout', () => {
  it('destroys the response and calls onStall once the socket stays full', async () => {
    let stalled = false;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const writer = new ResponseWriter(res, 200, () => {
        stalled = true;
      });
      // 64 MiB at once: far more than loopback's socket buffers hold for a client that never reads.
      const chunk = 'x'.repeat(1 << 20);
      for (let i = 0; i < 64 && writer.open; i++) writer.write(chunk);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const client = await rawConnection(url);
      client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      client.socket.pause();
      await waitFor(() => stalled);
      client.socket.resume(); // drain what was buffered: the connection ends, cut short
      const received = await client.closed;
      expect(received.length).toBeLessThan(64 << 20);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('serve: a huge prompt is tokenised off the event loop (Llama 3 tokenizer)', () => {
  const server = useRandomLlama3Server();

  it('small requests sent after a 30k-character CJK prompt are answered before it', async () => {
    const order: string[] = [];
    let sent!: () => void;
    const bodySent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const huge = new Promise<void>((resolve, reject) => {
      const req = request(`${server.url}/v1/completions`, { method: 'POST' }, (res) => {
        res.resume().on('end', () => {
          order.push(`huge ${res.statusCode}`);
          resolve();
        });
      });
      req.on('error', reject);
      req.on('finish', sent);
      req.end(JSON.stringify({ prompt: '漢字かな交じり文'.repeat(3750), max_tokens: 1 }));
    });
    // Once the whole body is on its way (the server tokenises it next), ask for small things.
    await bodySent;
    for (let i = 0; i < 3; i++) {
      const reply = await post(`${server.url}/v1/completions`, { prompt: `Hello ${i}`, max_tokens: 2, temperature: 0 });
      order.push(`small ${reply.status}`);
    }
    await huge;
    // The huge prompt is longer than the 256-token context: a 400 once it has been tokenised.
    expect(order).toEqual(['small 200', 'small 200', 'small 200', 'huge 400']);
  });
});

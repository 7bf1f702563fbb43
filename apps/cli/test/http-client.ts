import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { expect } from 'vitest';

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request on loopback, with a time limit. */
export function http(
  url: string,
  method: string,
  body?: string,
  headers: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const all = body ? { 'Content-Type': 'application/json', ...headers } : headers;
    const req = request(url, { method, headers: all }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

export const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  http(url, 'POST', typeof body === 'string' ? body : JSON.stringify(body), headers);

/** The JSON events of an SSE body, checking that it ends with [DONE]. */
export function events(body: string): Record<string, unknown>[] {
  const data = body
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
  expect(data.at(-1)).toBe('[DONE]');
  return data.slice(0, -1).map((d) => JSON.parse(d) as Record<string, unknown>);
}

export async function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A raw TCP connection to the server, for clients that misbehave; `closed` settles when the server closes it. */
export function rawConnection(url: string): Promise<{ socket: Socket; closed: Promise<string> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      let received = '';
      socket.on('data', (d: Buffer) => {
        received += d.toString('latin1');
      });
      const closed = new Promise<string>((done) => socket.on('close', () => done(received)));
      socket.on('error', () => {}); // a reset is also a close
      resolve({ socket, closed });
    });
    socket.once('error', reject);
  });
}

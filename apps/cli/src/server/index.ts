import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Llama } from '@llama-ts/generation';
import { errorMessage } from '../errors.js';
import { runGeneration } from './generate.js';
import { HttpError, readJson, sendError, sendJson } from './http.js';
import { FifoQueue } from './queue.js';
import { EventStream } from './sse.js';
import { type ChatRequest, type CompletionRequest, parseChatRequest, parseCompletionRequest } from './validate.js';

export interface ServerOptions {
  llama: Llama;
  /** The id /v1/models lists and responses carry. */
  modelName: string;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** One line per request (method, path, status, tokens, finish reason). */
  log?: (line: string) => void;
}

export interface RunningServer {
  server: Server;
  host: string;
  port: number;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  /** Requests waiting for or holding the model. */
  readonly queued: number;
  close(): Promise<void>;
}

interface RequestLog {
  status?: number;
  note?: string;
}

/** Starts the OpenAI-compatible server; resolves once it listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { llama, modelName } = options;
  const queue = new FifoQueue();
  const created = Math.floor(Date.now() / 1000);
  const log = options.log ?? (() => {});

  async function generationRoute(
    req: IncomingMessage,
    res: ServerResponse,
    kind: 'completion' | 'chat',
    entry: RequestLog,
  ): Promise<void> {
    const body = await readJson(req);
    const request: CompletionRequest | ChatRequest =
      kind === 'chat' ? parseChatRequest(body) : parseCompletionRequest(body);
    const prompt = 'messages' in request ? request.messages : request.prompt;
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('the client disconnected'));
    });
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
    const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
    const base = () => ({ id, created: Math.floor(Date.now() / 1000), model: modelName });
    const choice = (text: string, finish: string | null) =>
      kind === 'chat'
        ? {
            index: 0,
            delta: text === '' && finish === null ? { role: 'assistant' } : { content: text },
            finish_reason: finish,
          }
        : { index: 0, text, logprobs: null, finish_reason: finish };

    await queue.run(async () => {
      if (controller.signal.aborted) {
        entry.note = 'client left while queued';
        return;
      }
      let events: EventStream | undefined;
      const openEvents = async () => {
        if (!events) {
          events = new EventStream(res);
          if (kind === 'chat')
            await events.send({ ...base(), object: 'chat.completion.chunk', choices: [choice('', null)] });
        }
        return events;
      };
      const finished = await runGeneration(llama, prompt, request, controller.signal, async (delta) => {
        if (!request.stream) return;
        const stream = await openEvents();
        const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
        await stream.send({ ...base(), object: chunkObject, choices: [choice(delta.text, null)] });
      });
      entry.note = `prompt=${finished.usage.prompt_tokens} completion=${finished.usage.completion_tokens} finish=${finished.finishReason}`;
      if (finished.finishReason === 'abort') return;
      const finish = finished.finishReason;
      if (request.stream) {
        const stream = await openEvents();
        const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
        const last = kind === 'chat' ? { index: 0, delta: {}, finish_reason: finish } : choice('', finish);
        await stream.send({ ...base(), object: chunkObject, choices: [last], usage: finished.usage });
        if (request.includeUsage)
          await stream.send({ ...base(), object: chunkObject, choices: [], usage: finished.usage });
        await stream.done();
        entry.status = 200;
        return;
      }
      const choices =
        kind === 'chat'
          ? [
              {
                index: 0,
                message: { role: 'assistant', content: finished.text },
                logprobs: null,
                finish_reason: finish,
              },
            ]
          : [{ index: 0, text: finished.text, logprobs: null, finish_reason: finish }];
      sendJson(res, 200, { ...base(), object, choices, usage: finished.usage });
      entry.status = 200;
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse, entry: RequestLog): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const routes: Record<string, { method: string; handle: () => Promise<void> }> = {
      '/v1/models': {
        method: 'GET',
        handle: async () =>
          sendJson(res, 200, {
            object: 'list',
            data: [{ id: modelName, object: 'model', created, owned_by: 'llama-ts' }],
          }),
      },
      '/health': { method: 'GET', handle: async () => sendJson(res, 200, { status: 'ok', queued: queue.size }) },
      '/v1/completions': { method: 'POST', handle: () => generationRoute(req, res, 'completion', entry) },
      '/v1/chat/completions': { method: 'POST', handle: () => generationRoute(req, res, 'chat', entry) },
    };
    const target = routes[path];
    if (!target) throw new HttpError(404, `no route ${path}`, 'not_found_error');
    if (req.method !== target.method) {
      res.setHeader('Allow', target.method);
      throw new HttpError(405, `${path} takes ${target.method}, not ${req.method}`);
    }
    await target.handle();
  }

  const server = createServer((req, res) => {
    const start = performance.now();
    const entry: RequestLog = {};
    route(req, res, entry)
      .catch((error: unknown) => {
        const httpError = error instanceof HttpError ? error : new HttpError(500, errorMessage(error));
        if (!(error instanceof HttpError)) entry.note = errorMessage(error);
        if (res.headersSent) {
          // Mid-stream: tell the client in the stream's own format, then end it.
          if (!res.writableEnded)
            res.end(`data: ${JSON.stringify({ error: { message: httpError.message, type: httpError.type } })}\n\n`);
        } else if (!res.destroyed) {
          sendError(res, httpError);
        }
        entry.status = httpError.status;
      })
      .finally(() => {
        const ms = Math.round(performance.now() - start);
        const status = entry.status ?? (res.destroyed && !res.writableFinished ? 499 : res.statusCode);
        log(`${req.method} ${req.url} ${status} ${ms}ms${entry.note ? ` ${entry.note}` : ''}`);
      });
  });
  // Generations can be long; the client decides when to give up.
  server.requestTimeout = 0;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    get queued() {
      return queue.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Llama } from '@llama-ts/generation';
import { errorMessage, isUserError } from '../errors.js';
import { ApiKey, Cors, isLoopback, METHODS } from './access.js';
import { type GenerationNote, generationRoute } from './completions.js';
import { type GenerationEngine, QueueFullError, SerialEngine } from './engine.js';
import { ClientAbort, DEFAULT_MAX_BODY_BYTES, HttpError, sendError, sendJson } from './http.js';
import { Metrics } from './metrics.js';
import { TokenSpeller } from './openai.js';

export {
  type GenerationEngine,
  QueueFullError,
  type SequenceJob,
  type SequenceResult,
  SerialEngine,
} from './engine.js';

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
  /** One-line warnings about the configuration (listening beyond loopback without an API key). */
  warn?: (line: string) => void;
  /** Runs the sequences; default a SerialEngine over `llama` (one at a time, in arrival order). */
  engine?: GenerationEngine;
  /** Sequences that may wait for the model; more get 503 with Retry-After. Default 64. */
  maxQueue?: number;
  /** Larger request bodies get 413. Default 8 MiB. */
  maxBodyBytes?: number;
  /** Clients must send `Authorization: Bearer <apiKey>` (all routes but /health and preflights); 401 otherwise. */
  apiKey?: string;
  /** CORS: '*' or a comma-separated list of allowed origins. Off by default. */
  corsOrigin?: string;
  /** A connection must send its request headers within this. Default 10 s. */
  headersTimeoutMs?: number;
  /** ... and its whole request (headers and body) within this. Default 30 s. Responses may take longer. */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this. Default 5 s. */
  idleTimeoutMs?: number;
  /** A client whose socket stays full (it stopped reading) this long is dropped and its generation cancelled. Default 30 s. */
  writeTimeoutMs?: number;
}

export interface RunningServer {
  server: Server;
  host: string;
  port: number;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  /** Sequences waiting for or holding the model. */
  readonly queued: number;
  close(): Promise<void>;
}

interface RequestLog extends GenerationNote {
  status?: number;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!(Number.isFinite(chosen) && chosen > 0))
    throw new Error(`startServer: ${name} must be a positive number, got ${value}`);
  return chosen;
}

/** Starts the OpenAI-compatible server; resolves once it listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { llama, modelName } = options;
  const log = options.log ?? (() => {});
  const maxQueue = options.maxQueue ?? 64;
  if (!(Number.isSafeInteger(maxQueue) && maxQueue >= 0)) {
    throw new Error(`startServer: maxQueue must be a non-negative integer, got ${options.maxQueue}`);
  }
  const engine = options.engine ?? new SerialEngine(llama, { maxQueue });
  const metrics = new Metrics(engine);
  const headersTimeout = positive('headersTimeoutMs', options.headersTimeoutMs, 10_000);
  const requestTimeout = Math.max(headersTimeout, positive('requestTimeoutMs', options.requestTimeoutMs, 30_000));
  const context = {
    llama,
    engine,
    metrics,
    speller: new TokenSpeller(llama.tokenizer),
    modelName,
    maxBodyBytes: positive('maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES),
    writeTimeoutMs: positive('writeTimeoutMs', options.writeTimeoutMs, 30_000),
  };
  const cors = options.corsOrigin ? new Cors(options.corsOrigin) : undefined;
  const apiKey = options.apiKey !== undefined ? new ApiKey(options.apiKey) : undefined;
  const created = Math.floor(Date.now() / 1000);

  const routes: Record<string, { method: 'GET' | 'POST'; open?: boolean; handle: Handler }> = {
    '/v1/models': {
      method: 'GET',
      handle: async (_req, res) =>
        sendJson(res, 200, {
          object: 'list',
          data: [{ id: modelName, object: 'model', created, owned_by: 'llama-ts' }],
        }),
    },
    '/health': {
      method: 'GET',
      open: true, // load balancers probe it without a key
      handle: async (_req, res) =>
        sendJson(res, 200, { status: 'ok', queued: engine.waiting, active: engine.active, slots: engine.slots }),
    },
    '/metrics': {
      method: 'GET',
      handle: async (_req, res) => {
        const text = metrics.render();
        res.writeHead(200, {
          'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
          'Content-Length': Buffer.byteLength(text),
        });
        res.end(text);
      },
    },
    '/v1/completions': {
      method: 'POST',
      handle: (req, res, entry) => generationRoute(context, req, res, 'completion', entry),
    },
    '/v1/chat/completions': {
      method: 'POST',
      handle: (req, res, entry) => generationRoute(context, req, res, 'chat', entry),
    },
  };

  async function route(req: IncomingMessage, res: ServerResponse, path: string, entry: RequestLog): Promise<void> {
    const target = routes[path];
    if (req.method === 'OPTIONS') {
      // A CORS preflight (or a plain OPTIONS): no key needed, browsers send none on preflights.
      res.setHeader('Allow', target ? `${target.method === 'GET' ? 'GET, HEAD' : 'POST'}, OPTIONS` : METHODS);
      cors?.preflight(req, res);
      res.writeHead(204).end();
      return;
    }
    cors?.apply(req, res);
    if (!target) throw new HttpError(404, `no route ${path}`, 'not_found_error');
    const allowed = target.method === 'GET' ? ['GET', 'HEAD'] : ['POST'];
    if (!allowed.includes(req.method ?? '')) {
      throw new HttpError(405, `${path} takes ${allowed.join(' or ')}, not ${req.method}`, 'invalid_request_error', {
        Allow: `${allowed.join(', ')}, OPTIONS`,
      });
    }
    if (apiKey && !target.open) apiKey.check(req);
    await target.handle(req, res, entry);
  }

  const server = createServer(
    // Node checks the header and request deadlines this often; the default (30 s) would let a
    // slowloris connection live well past a short deadline.
    { connectionsCheckingInterval: Math.max(50, Math.min(1000, headersTimeout / 4)) },
    (req, res) => {
      const start = performance.now();
      const entry: RequestLog = {};
      const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
      route(req, res, path, entry)
        .catch((error: unknown) => {
          if (error instanceof ClientAbort || (res.destroyed && !res.writableFinished)) {
            entry.status = 499;
            entry.note ??= `client aborted${error instanceof ClientAbort ? ' while sending the body' : ''}`;
            return;
          }
          const httpError =
            error instanceof HttpError
              ? error
              : error instanceof QueueFullError
                ? new HttpError(503, error.message, 'server_error', { 'Retry-After': '1' })
                : isUserError(error)
                  ? new HttpError(400, errorMessage(error))
                  : new HttpError(500, errorMessage(error));
          if (httpError.status === 500) entry.note = errorMessage(error);
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
          metrics.request(path, status);
          log(`${req.method} ${req.url} ${status} ${ms}ms${entry.note ? ` ${entry.note}` : ''}`);
        });
    },
  );
  // Slowloris and unfinished bodies: the headers, then the whole request, must arrive in time.
  // Once a request is complete these no longer apply, so a long generation is never cut.
  server.headersTimeout = headersTimeout;
  server.requestTimeout = requestTimeout;
  server.keepAliveTimeout = positive('idleTimeoutMs', options.idleTimeoutMs, 5_000);

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  if (!apiKey && !isLoopback(address.address)) {
    options.warn?.(
      `llama-ts: warning: listening on ${address.address} without an API key: anyone who can reach port ${address.port} can use the model (set --api-key or LLAMA_TS_API_KEY)`,
    );
  }
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    get queued() {
      return engine.waiting + engine.active;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse, entry: RequestLog) => Promise<void>;

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { HttpError } from './http.js';

/** Methods the server answers, for Allow and CORS preflights. */
export const METHODS = 'GET, HEAD, POST, OPTIONS';

/**
 * CORS for browsers on other origins: `origins` is '*' or a comma-separated list of origins
 * (scheme://host[:port]); undefined leaves CORS off, so browsers keep pages of other origins out.
 */
export class Cors {
  readonly #any: boolean;
  readonly #origins: ReadonlySet<string>;

  constructor(origins: string) {
    const list = origins
      .split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter(Boolean);
    this.#any = list.includes('*');
    this.#origins = new Set(list);
  }

  /** Sets the response's CORS headers when the request's Origin is allowed; says whether it is. */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (!origin) return false;
    res.setHeader('Vary', 'Origin');
    if (!this.#any && !this.#origins.has(origin)) return false;
    res.setHeader('Access-Control-Allow-Origin', this.#any ? '*' : origin);
    res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
    return true;
  }

  /** A preflight's answer: which methods and headers the real request may use, cached 10 minutes. */
  preflight(req: IncomingMessage, res: ServerResponse): void {
    if (!this.apply(req, res)) return;
    res.setHeader('Access-Control-Allow-Methods', METHODS);
    res.setHeader(
      'Access-Control-Allow-Headers',
      req.headers['access-control-request-headers'] ?? 'Authorization, Content-Type',
    );
    res.setHeader('Access-Control-Max-Age', '600');
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Bearer-token authentication with one key, compared in constant time. */
export class ApiKey {
  readonly #digest: Buffer;

  constructor(key: string) {
    if (key.trim() === '') throw new Error('the API key is empty');
    this.#digest = digest(key);
  }

  /** Throws a 401 unless the request carries `Authorization: Bearer <key>`. */
  check(req: IncomingMessage): void {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!match?.[1] || !timingSafeEqual(digest(match[1].trim()), this.#digest)) {
      throw new HttpError(
        401,
        match ? 'the API key is not valid' : 'this server needs an API key: send Authorization: Bearer <key>',
        'authentication_error',
        { 'WWW-Authenticate': 'Bearer' },
      );
    }
  }
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]' || host.startsWith('::ffff:127.');
}

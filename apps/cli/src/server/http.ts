import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error with an HTTP status and an OpenAI error type, sent as `{ error: { message, type } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = status >= 500 ? 'server_error' : 'invalid_request_error',
    /** Extra response headers (Retry-After, WWW-Authenticate). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The client went away before the response was complete: logged as an abort, never a 500. */
export class ClientAbort extends Error {
  override name = 'ClientAbort';
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

function tooLarge(maxBytes: number): HttpError {
  // Close the connection after the 413 rather than read the rest of the body.
  return new HttpError(413, `the request body exceeds ${maxBytes} bytes`, 'invalid_request_error', {
    Connection: 'close',
  });
}

/** The request body parsed as JSON; 400 when it is not JSON, 413 when it is too large. */
export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) throw tooLarge(maxBytes);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new ClientAbort('the client closed the connection while sending the body');
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'the request body is empty; expected a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** The JSON body and headers of a response; `end` sends it (through a ResponseWriter's write timeout). */
export function writeJsonHead(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  return text;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.end(writeJsonHead(res, status, body, headers));
}

export function sendError(res: ServerResponse, error: HttpError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, error.status, { error: { message: error.message, type: error.type, code: null } }, error.headers);
}

import type { ServerResponse } from 'node:http';

/**
 * Writes a response without ever waiting for the client: the generation goes on while the socket
 * buffers. A client that stops reading (a full socket that does not drain, or a response that does
 * not finish, within `timeoutMs`) is dropped and `onStall` runs, which cancels its generation, so
 * a stalled reader holds neither the model nor unbounded memory for long.
 */
export class ResponseWriter {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly timeoutMs: number,
    private readonly onStall: () => void,
  ) {
    res.on('drain', () => this.#disarm());
    res.on('finish', () => this.#disarm());
    res.on('close', () => this.#disarm());
  }

  get open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  write(text: string): void {
    if (!this.open) return;
    if (!this.res.write(text)) this.#arm();
  }

  end(text?: string): void {
    if (!this.open) return;
    this.res.end(text);
    if (!this.res.writableFinished) this.#arm();
  }

  #arm(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.res.destroy();
      this.onStall();
    }, this.timeoutMs);
    this.#timer.unref();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Server-sent events as OpenAI streams them: `data: {json}` per chunk, then `data: [DONE]`. */
export class EventStream {
  constructor(
    res: ServerResponse,
    private readonly writer: ResponseWriter,
  ) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no', // nginx: pass events through unbuffered
    });
    res.flushHeaders();
  }

  send(data: unknown): void {
    this.writer.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    this.writer.end('data: [DONE]\n\n');
  }
}

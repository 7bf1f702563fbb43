import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/** Server-sent events as OpenAI streams them: `data: {json}` per chunk, then `data: [DONE]`. */
export class EventStream {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
  }

  /** Sends one event; waits while the socket is full (or until the client is gone). */
  async send(data: unknown): Promise<void> {
    await this.#write(`data: ${JSON.stringify(data)}\n\n`);
  }

  async done(): Promise<void> {
    await this.#write('data: [DONE]\n\n');
    this.res.end();
  }

  async #write(text: string): Promise<void> {
    if (this.res.destroyed || this.res.writableEnded) return;
    if (!this.res.write(text)) {
      await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
    }
  }
}

import type { StreamDelta } from '../stream.js';

/**
 * The deltas of one request, pushed by the engine as they are sampled and pulled by the caller's
 * `for await`. The engine never waits for the reader (a slow reader must not hold up the batch):
 * deltas queue here until read, and whoever serves the reader decides when one is too slow.
 */
export class TokenChannel implements AsyncIterator<StreamDelta> {
  readonly #buffered: StreamDelta[] = [];
  #waiting: { resolve: (r: IteratorResult<StreamDelta>) => void; reject: (e: unknown) => void } | undefined;
  #ended = false;
  #error: { error: unknown } | undefined;

  constructor(private readonly onReturn: () => void) {}

  push(delta: StreamDelta): void {
    if (this.#ended) return;
    if (this.#waiting) {
      const { resolve } = this.#waiting;
      this.#waiting = undefined;
      resolve({ value: delta, done: false });
    } else {
      this.#buffered.push(delta);
    }
  }

  /** No more deltas; with an error, the reader gets it after the deltas already pushed. */
  end(error?: { error: unknown }): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    if (this.#waiting && this.#buffered.length === 0) {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (error) waiting.reject(error.error);
      else waiting.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<StreamDelta>> {
    const delta = this.#buffered.shift();
    if (delta) return Promise.resolve({ value: delta, done: false });
    if (this.#ended) {
      if (this.#error) {
        const { error } = this.#error;
        this.#error = undefined; // thrown once, then the iterator is done
        return Promise.reject(error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  /** The reader stopped early (`break` out of `for await`): the request is cancelled. */
  return(): Promise<IteratorResult<StreamDelta>> {
    this.onReturn();
    this.#buffered.length = 0;
    return Promise.resolve({ value: undefined, done: true });
  }
}

/**
 * Runs tasks one at a time in arrival order: the model's KV cache has one set of slots, so
 * requests take turns (first come, first served) and none is dropped.
 */
export class FifoQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #size = 0;

  /** Tasks waiting or running. */
  get size(): number {
    return this.#size;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.#size++;
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => this.#size--,
      () => this.#size--,
    );
    return result;
  }
}

export class GenerationError extends Error {
  override name = 'GenerationError';
}

/**
 * A BatchEngine's queue is full: the request was not accepted (a server answers 503 with
 * Retry-After). `limit` is the queue's length limit.
 */
export class QueueFullError extends GenerationError {
  override name = 'QueueFullError';

  constructor(readonly limit: number) {
    super(`BatchEngine: the queue is full (${limit} requests waiting); try again later`);
  }
}

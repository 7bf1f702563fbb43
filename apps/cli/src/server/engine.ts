import type { FinishReason, Llama, StreamDelta, StreamOptions, StreamSummary } from '@llama-ts/generation';

/**
 * One sequence to generate: what the HTTP layer hands the engine. n choices of a request are n
 * sequences. The engine never waits for the client: `onDelta` must return at once (the HTTP layer
 * buffers and drops a client that stops reading), so one slow reader cannot hold a batch back.
 */
export interface SequenceJob {
  /** Prompt token ids (already encoded, off the event loop when long). */
  prompt: readonly number[];
  /** Sampling, length, stop and log-prob options (the engine adds its own abort signal). */
  options: Omit<StreamOptions, 'signal'>;
  /** Seeds this sequence's sampling; unseeded sequences continue the engine's stream. */
  seed?: number;
  /** Aborting it ends the sequence within one token, or removes it from the queue. */
  signal: AbortSignal;
  onDelta(delta: StreamDelta): void;
}

export interface SequenceResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

/** The engine's queue is full: the server answers 503 with Retry-After. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

/**
 * What the server needs from whatever runs the model: run a sequence, stream its tokens, cancel it.
 * Errors about the request itself (a bad option, a prompt longer than the context) are the
 * packages' user errors, thrown before the first delta.
 */
export interface GenerationEngine {
  /** Whether `count` more sequences fit in the queue now (checked before any of them is run). */
  accepts(count: number): boolean;
  /** Queues and runs a sequence; QueueFullError when it does not fit. */
  run(job: SequenceJob): Promise<SequenceResult>;
  /** Sequences waiting for a slot. */
  readonly waiting: number;
  /** Sequences generating now. */
  readonly active: number;
  /** How many sequences can generate at once. */
  readonly slots: number;
}

export interface SerialEngineOptions {
  /** Sequences that may wait beyond the one running; more are refused with QueueFullError. */
  maxQueue: number;
}

/**
 * Runs one sequence at a time in arrival order through `llama.stream` (the model's KV cache slot 0).
 * A continuous-batching engine implements the same interface with several slots.
 */
export class SerialEngine implements GenerationEngine {
  readonly slots = 1;
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #active = 0;

  constructor(
    private readonly llama: Llama,
    private readonly options: SerialEngineOptions,
  ) {}

  get waiting(): number {
    return this.#waiting;
  }

  get active(): number {
    return this.#active;
  }

  accepts(count: number): boolean {
    return this.#waiting + this.#active + count <= this.slots + this.options.maxQueue;
  }

  run(job: SequenceJob): Promise<SequenceResult> {
    if (!this.accepts(1)) {
      return Promise.reject(new QueueFullError(`the queue is full (${this.options.maxQueue} waiting)`));
    }
    this.#waiting++;
    const result = this.#tail.then(async () => {
      this.#waiting--;
      this.#active++;
      try {
        return await this.#generate(job);
      } finally {
        this.#active--;
      }
    });
    this.#tail = result.catch(() => {});
    return result;
  }

  async #generate(job: SequenceJob): Promise<SequenceResult> {
    const aborted = (text: string, completionTokens: number): SequenceResult => ({
      text,
      finishReason: 'abort',
      promptTokens: job.prompt.length,
      completionTokens,
    });
    if (job.signal.aborted) return aborted('', 0);
    if (job.seed !== undefined) this.llama.reseed(job.seed);
    // Throws a GenerationError for a bad request before any token.
    const stream = this.llama.stream(job.prompt, { ...job.options, signal: job.signal });
    let text = '';
    let tokens = 0;
    let summary: StreamSummary | undefined;
    try {
      for (let step = await stream.next(); ; step = await stream.next()) {
        if (step.done) {
          summary = step.value;
          break;
        }
        text += step.value.text;
        if (step.value.token >= 0) tokens++;
        job.onDelta(step.value);
      }
    } catch (error) {
      if (job.signal.aborted) return aborted(text, tokens);
      throw error;
    } finally {
      if (!summary) await stream.return(undefined as never).catch(() => {});
    }
    return {
      text: summary.text,
      finishReason: summary.finishReason,
      promptTokens: summary.usage.promptTokens,
      completionTokens: summary.usage.generatedTokens,
    };
  }
}

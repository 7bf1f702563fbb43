import {
  type BatchEngine,
  QueueFullError as BatchQueueFullError,
  type BatchRequest,
  type BatchStream,
  GenerationError,
} from '@llama-ts/generation';
import { type GenerationEngine, QueueFullError, type SequenceJob, type SequenceResult } from './engine.js';

/**
 * The server's engine on generation's BatchEngine (continuous batching over its `parallel` KV-cache
 * slots): a mapping of jobs to requests and of summaries to results, nothing more. The batching,
 * queueing, prompt caching and sampling are the BatchEngine's.
 */
export class BatchingEngine implements GenerationEngine {
  /** The BatchEngine has no context shift: a sequence ends at the context. */
  readonly canShiftContext = false;

  constructor(private readonly batch: BatchEngine) {}

  get waiting(): number {
    return this.batch.stats.queued;
  }

  get active(): number {
    return this.batch.stats.active;
  }

  get slots(): number {
    return this.batch.parallel;
  }

  accepts(count: number): boolean {
    // The BatchEngine refuses a request when queueLimit wait beyond the free slots.
    const { active, queued, parallel, queueLimit } = this.batch.stats;
    return active + queued + count <= parallel + queueLimit;
  }

  async run(job: SequenceJob): Promise<SequenceResult> {
    let stream: BatchStream;
    try {
      stream = this.batch.submit(toRequest(job));
    } catch (error) {
      // The server answers its own QueueFullError with 503 and Retry-After.
      if (error instanceof BatchQueueFullError) throw new QueueFullError(error.message);
      throw error;
    }
    for await (const delta of stream) job.onDelta(delta);
    const summary = await stream.done;
    return {
      text: summary.text,
      finishReason: summary.finishReason,
      promptTokens: summary.usage.promptTokens,
      completionTokens: summary.usage.generatedTokens,
    };
  }

  /** Cancels every sequence, queued or running. */
  close(): void {
    this.batch.close();
  }
}

/** The BatchEngine request of a job; what the BatchEngine cannot do is a GenerationError (a 400). */
function toRequest(job: SequenceJob): BatchRequest {
  const { contextShift, echo, ...options } = job.options;
  if (contextShift) throw new GenerationError('contextShift is not available with continuous batching');
  if (echo) throw new GenerationError('echo is not available with continuous batching');
  return {
    ...options,
    prompt: job.prompt,
    signal: job.signal,
    ...(job.seed !== undefined ? { seed: job.seed } : {}),
  };
}

import type { BatchRow } from '@llama-ts/model';
import type { StreamDecoder } from '@llama-ts/tokenizer';
import { GenerationError, QueueFullError } from '../errors.js';
import { allStopTokens, tokenLogprob, yieldToEventLoop } from '../generate.js';
import type { LanguageModel } from '../model.js';
import { topLogprobsOf } from '../probabilities.js';
import { createSampler, type Sampler } from '../sampler.js';
import type { SamplingOptions } from '../sampling-options.js';
import { createSamplingRng } from '../sampling-rng.js';
import {
  checkStopStrings,
  type FinishReason,
  StopStringFilter,
  type StreamDelta,
  type StreamSummary,
} from '../stream.js';
import { UsageClock } from '../usage.js';
import { type CacheSlot, pickSlot } from './slots.js';
import { TokenChannel } from './token-channel.js';

/** A model that runs sequences at their own positions in one pass (@llama-ts/model's Transformer.forwardBatch). */
export interface BatchLanguageModel extends LanguageModel {
  forwardBatch(rows: readonly BatchRow[], options?: { logits?: 'last' | 'all' }): Promise<Float32Array>;
}

export interface BatchEngineOptions {
  model: BatchLanguageModel;
  /** Sequences decoded together, one KV-cache slot each (default: min(4, maxBatchSize)). */
  parallel?: number;
  /** Requests that may wait for a slot; one more is a QueueFullError (default 64). */
  queueLimit?: number;
  /**
   * Prompt tokens run per step (default 128): a long prompt is prefilled in chunks of this size,
   * one chunk between two decode steps, so the streams already running keep flowing.
   */
  prefillChunk?: number;
  /** Token ids that end a sequence (a tokenizer's stopTokens). */
  stopTokens?: Iterable<number>;
  /** Gives each request its text as it streams, and makes `stop` strings possible (a tokenizer). */
  tokenizer?: { streamDecoder(): StreamDecoder };
  /** Seeds the sampling of requests that give no seed of their own (request n: seed + n). Default 1. */
  seed?: number;
}

export interface BatchRequest extends SamplingOptions {
  /** The prompt's token ids (at least one, fewer than maxSeqLen). */
  prompt: readonly number[];
  /** Tokens to generate at most (default: as many as the context allows). */
  maxGenLen?: number;
  /** This request's own sampling stream: the same seed gives the same tokens whatever runs beside it. */
  seed?: number;
  /** Stop as soon as the text contains one of these (needs the engine's tokenizer); not emitted. */
  stop?: readonly string[];
  /** Token ids that end this request, besides the engine's. */
  stopTokens?: Iterable<number>;
  /** Give each delta the log-probability of its token (from the untempered logits). */
  logprobs?: boolean;
  /** Also give each delta the `topLogprobs` most likely tokens at its position (an integer ≥ 0; OpenAI's top_logprobs). */
  topLogprobs?: number;
  /** Aborting it cancels the request. */
  signal?: AbortSignal;
}

/** A submitted request: iterate it for deltas; `done` has the summary; `cancel` frees its slot. */
export interface BatchStream extends AsyncIterable<StreamDelta> {
  readonly id: number;
  /** Resolves when the request ends (finishReason 'abort' when cancelled); rejects if the model fails. */
  readonly done: Promise<StreamSummary>;
  /** Ends the request now: the stream ends, and its slot is free from the next step. */
  cancel(): void;
}

export interface BatchEngineStats {
  parallel: number;
  /** Requests holding a slot. */
  active: number;
  /** Requests waiting for a slot. */
  queued: number;
  queueLimit: number;
}

const DEFAULT_QUEUE_LIMIT = 64;
const DEFAULT_PREFILL_CHUNK = 128;
const DEFAULT_PARALLEL = 4;

/** One request from submit to its end. */
interface Job {
  readonly id: number;
  readonly prompt: readonly number[];
  readonly maxNew: number;
  readonly sampler: Sampler;
  readonly stopTokens: ReadonlySet<number>;
  readonly logprobs: boolean;
  readonly topLogprobs: number;
  readonly decoder: StreamDecoder | undefined;
  readonly filter: StopStringFilter;
  readonly channel: TokenChannel;
  readonly clock: UsageClock;
  readonly settle: { resolve: (s: StreamSummary) => void; reject: (e: unknown) => void };
  readonly detach: () => void;
  slot: CacheSlot | undefined;
  /** Prompt tokens reused from the slot's cache. */
  reused: number;
  /** The prompt and the generated tokens: the sampler's history. */
  history: number[];
  generated: number[];
  text: string;
  /** The last sampled token, to be fed at the next decode step. */
  pending: number | undefined;
  finished: boolean;
}

/**
 * Continuous batching over `parallel` KV-cache slots: requests join between steps and leave when
 * done. Each step runs one prefill chunk (of the requests still reading their prompts: equally long
 * chunks of several go together) and one decode pass of every request that is generating, each at
 * its own position in its own slot, so a decode step reads the weights once for all of them. A
 * request whose prompt extends what a free slot holds (a conversation's next turn) gets that slot
 * and prefills only the rest.
 *
 * The engine owns the model's cache slots 0..parallel-1 while it runs: do not run other generation
 * (generate, stream, chat sessions) on the same model at the same time.
 */
export class BatchEngine {
  readonly parallel: number;
  readonly queueLimit: number;
  readonly prefillChunk: number;
  readonly #model: BatchLanguageModel;
  readonly #stopTokens: ReadonlySet<number>;
  readonly #tokenizer: { streamDecoder(): StreamDecoder } | undefined;
  readonly #seed: number;
  readonly #slots: CacheSlot[];
  readonly #queue: Job[] = [];
  readonly #active: Job[] = [];
  #nextId = 0;
  #clock = 0;
  #running = false;
  #closed = false;

  constructor(options: BatchEngineOptions) {
    const model = options?.model;
    if (!model || typeof model.forwardBatch !== 'function') {
      throw new GenerationError('BatchEngine: model must have forwardBatch (a Transformer of @llama-ts/model)');
    }
    const { maxBatchSize } = model.args;
    this.parallel = options.parallel ?? Math.min(DEFAULT_PARALLEL, maxBatchSize);
    if (!Number.isInteger(this.parallel) || this.parallel < 1 || this.parallel > maxBatchSize) {
      throw new GenerationError(
        `BatchEngine: parallel must be an integer in 1..${maxBatchSize} (the model's maxBatchSize), got ${options.parallel}`,
      );
    }
    this.queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    if (!Number.isInteger(this.queueLimit) || this.queueLimit < 0) {
      throw new GenerationError(`BatchEngine: queueLimit must be an integer ≥ 0, got ${options.queueLimit}`);
    }
    this.prefillChunk = options.prefillChunk ?? DEFAULT_PREFILL_CHUNK;
    if (!Number.isInteger(this.prefillChunk) || this.prefillChunk < 1) {
      throw new GenerationError(`BatchEngine: prefillChunk must be an integer ≥ 1, got ${options.prefillChunk}`);
    }
    this.#seed = options.seed ?? 1;
    if (!Number.isFinite(this.#seed))
      throw new GenerationError(`BatchEngine: seed must be a finite number, got ${options.seed}`);
    this.#model = model;
    this.#stopTokens = allStopTokens(new Set(), options.stopTokens);
    this.#tokenizer = options.tokenizer;
    this.#slots = Array.from({ length: this.parallel }, (_, index) => ({
      index,
      cached: [],
      busy: false,
      lastUsed: -1,
    }));
  }

  get stats(): BatchEngineStats {
    return {
      parallel: this.parallel,
      active: this.#active.length,
      queued: this.#queue.length,
      queueLimit: this.queueLimit,
    };
  }

  /**
   * Queues a request and returns its stream at once. A bad request is a GenerationError naming the
   * field; a full queue is a QueueFullError; both are thrown here, before anything runs.
   */
  submit(request: BatchRequest): BatchStream {
    if (this.#closed) throw new GenerationError('BatchEngine: the engine is closed');
    const prepared = this.#prepare(request);
    // Queued requests that a free slot takes at the next step are not waiting.
    const free = this.#slots.filter((slot) => !slot.busy).length;
    if (this.#queue.length - free >= this.queueLimit) throw new QueueFullError(this.queueLimit);
    const id = this.#nextId++;
    let settle!: Job['settle'];
    const done = new Promise<StreamSummary>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // A caller that only iterates must not see an unhandled rejection from `done`.
    done.catch(() => {});
    const cancel = () => this.#finish(job, 'abort');
    const signal = request.signal;
    const onAbort = () => cancel();
    const job: Job = {
      id,
      ...prepared,
      channel: new TokenChannel(cancel),
      clock: new UsageClock(),
      settle,
      detach: () => signal?.removeEventListener('abort', onAbort),
      slot: undefined,
      reused: 0,
      history: [...request.prompt],
      generated: [],
      text: '',
      pending: undefined,
      finished: false,
    };
    this.#queue.push(job);
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
    this.#start();
    const channel = job.channel;
    return {
      id,
      done,
      cancel,
      [Symbol.asyncIterator]: () => channel,
    };
  }

  /** Cancels every request, queued or running, and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const job of [...this.#queue, ...this.#active]) this.#finish(job, 'abort');
  }

  #prepare(request: BatchRequest) {
    if (!request || typeof request !== 'object')
      throw new GenerationError('BatchEngine.submit: request must be an object');
    const { maxSeqLen, vocabSize } = this.#model.args;
    const prompt = request.prompt;
    if (!Array.isArray(prompt) || prompt.length === 0) {
      throw new GenerationError('BatchEngine.submit: prompt must be a non-empty array of token ids');
    }
    prompt.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new GenerationError(
          `BatchEngine.submit: prompt[${i}] is ${id}; expected a token id in 0..${vocabSize - 1}`,
        );
      }
    });
    if (prompt.length >= maxSeqLen) {
      throw new GenerationError(
        `BatchEngine.submit: prompt has ${prompt.length} tokens; the context (maxSeqLen ${maxSeqLen}) leaves no room to generate`,
      );
    }
    const maxGenLen = request.maxGenLen ?? maxSeqLen;
    if (!Number.isInteger(maxGenLen) || maxGenLen < 0) {
      throw new GenerationError(`BatchEngine.submit: maxGenLen must be an integer ≥ 0, got ${request.maxGenLen}`);
    }
    const stops = checkStopStrings(request.stop);
    if (stops.length > 0 && !this.#tokenizer) {
      throw new GenerationError('BatchEngine.submit: stop strings need a tokenizer (BatchEngineOptions.tokenizer)');
    }
    const topLogprobs = request.topLogprobs ?? 0;
    if (!Number.isInteger(topLogprobs) || topLogprobs < 0) {
      throw new GenerationError(`BatchEngine.submit: topLogprobs must be an integer ≥ 0, got ${request.topLogprobs}`);
    }
    const seed = request.seed ?? this.#seed + this.#nextId;
    if (!Number.isFinite(seed))
      throw new GenerationError(`BatchEngine.submit: seed must be a finite number, got ${seed}`);
    return {
      prompt: [...prompt],
      maxNew: Math.min(maxGenLen, maxSeqLen - prompt.length),
      sampler: createSampler(request, createSamplingRng(seed)),
      stopTokens: allStopTokens(this.#stopTokens, request.stopTokens),
      logprobs: request.logprobs === true || topLogprobs > 0,
      topLogprobs,
      decoder: this.#tokenizer?.streamDecoder(),
      filter: new StopStringFilter(stops),
    };
  }

  #start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#loop();
  }

  async #loop(): Promise<void> {
    try {
      while (this.#queue.length > 0 || this.#active.length > 0) {
        this.#admit();
        await this.#prefillStep();
        await this.#decodeStep();
        // Lets I/O (new requests, cancels, readers) run between steps.
        await yieldToEventLoop();
      }
    } catch (error) {
      // Not the model's failure (#forward handles that): a bug. End every request with it rather
      // than leave their streams waiting forever.
      for (const job of [...this.#active, ...this.#queue]) this.#finish(job, 'abort', error);
    } finally {
      this.#running = false;
    }
  }

  /** Moves queued requests into free slots, the slot with the longest cached prefix first. */
  #admit(): void {
    while (this.#queue.length > 0) {
      const job = this.#queue[0] as Job;
      const choice = pickSlot(this.#slots, job.prompt);
      if (!choice) return;
      this.#queue.shift();
      const { slot, prefix } = choice;
      slot.busy = true;
      slot.lastUsed = this.#clock++;
      // At least one prompt token must run through the model to give the next token's logits.
      job.reused = Math.min(prefix, job.prompt.length - 1);
      slot.cached.length = job.reused;
      job.slot = slot;
      this.#active.push(job);
      if (job.maxNew === 0) this.#finish(job, 'length');
    }
  }

  /**
   * One prefill chunk: the earliest request still reading its prompt, with any others whose next
   * chunk is as long, up to prefillChunk tokens in all.
   */
  async #prefillStep(): Promise<void> {
    const reading = this.#active.filter(
      (job) => !job.finished && (job.slot as CacheSlot).cached.length < job.prompt.length,
    );
    if (reading.length === 0) return;
    const chunkOf = (job: Job) => {
      const from = (job.slot as CacheSlot).cached.length;
      return job.prompt.slice(from, Math.min(job.prompt.length, from + this.prefillChunk));
    };
    const length = chunkOf(reading[0] as Job).length;
    const group = reading
      .filter((job) => chunkOf(job).length === length)
      .slice(0, Math.max(1, Math.floor(this.prefillChunk / length)));
    const rows = group.map((job) => {
      const slot = job.slot as CacheSlot;
      const row = { tokens: chunkOf(job), slot: slot.index, startPos: slot.cached.length };
      slot.cached.push(...row.tokens);
      return row;
    });
    const logits = await this.#forward(group, rows);
    if (!logits) return;
    const vocab = this.#model.args.vocabSize;
    group.forEach((job, b) => {
      if (job.finished || (job.slot as CacheSlot).cached.length < job.prompt.length) return;
      job.clock.prefillDone(job.prompt.length - job.reused);
      this.#accept(job, logits.subarray(b * vocab, (b + 1) * vocab));
    });
  }

  /** One decode pass: every generating request feeds its last token at its own position. */
  async #decodeStep(): Promise<void> {
    const group = this.#active.filter((job) => !job.finished && job.pending !== undefined);
    if (group.length === 0) return;
    const rows = group.map((job) => {
      const slot = job.slot as CacheSlot;
      const token = job.pending as number;
      job.pending = undefined;
      const row = { tokens: [token], slot: slot.index, startPos: slot.cached.length };
      slot.cached.push(token);
      return row;
    });
    const logits = await this.#forward(group, rows);
    if (!logits) return;
    const vocab = this.#model.args.vocabSize;
    group.forEach((job, b) => {
      if (job.finished) return;
      job.clock.decoded(1);
      this.#accept(job, logits.subarray(b * vocab, (b + 1) * vocab));
    });
  }

  /** Runs the rows; a failure ends the requests in them with the error (and forgets their slots' caches). */
  async #forward(group: Job[], rows: BatchRow[]): Promise<Float32Array | undefined> {
    try {
      return await this.#model.forwardBatch(rows, { logits: 'last' });
    } catch (error) {
      for (const job of group) {
        if (job.slot) job.slot.cached = [];
        this.#finish(job, 'abort', error);
      }
      return undefined;
    }
  }

  /** Samples the next token from `logits` and streams it, or ends the request. */
  #accept(job: Job, logits: Float32Array): void {
    const token = job.sampler.sample(logits, job.history);
    if (job.stopTokens.has(token)) {
      this.#finish(job, 'stop');
      return;
    }
    job.generated.push(token);
    job.history.push(token);
    const piece = job.decoder ? job.filter.push(job.decoder.push(token)) : { text: '', stopped: false };
    job.text += piece.text;
    const delta: StreamDelta = { token, text: piece.text };
    if (job.logprobs) delta.logprob = tokenLogprob(logits, token);
    if (job.topLogprobs > 0) delta.topLogprobs = topLogprobsOf(logits, job.topLogprobs);
    job.channel.push(delta);
    if (piece.stopped) this.#finish(job, 'stop');
    else if (job.generated.length >= job.maxNew) this.#finish(job, 'length');
    else job.pending = token;
  }

  /** Ends a request (once): flushes its text, frees its slot, settles its stream and summary. */
  #finish(job: Job, reason: FinishReason, error?: unknown): void {
    if (job.finished) return;
    job.finished = true;
    job.detach();
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) this.#queue.splice(queued, 1);
    const active = this.#active.indexOf(job);
    if (active >= 0) this.#active.splice(active, 1);
    if (job.slot) job.slot.busy = false;
    if (error !== undefined) {
      job.channel.end({ error });
      job.settle.reject(error);
      return;
    }
    if (job.decoder) {
      // Bytes held by the decoder (an incomplete character) or text held for a possible stop string.
      if (reason === 'stop') job.decoder.end();
      else {
        const rest = job.filter.push(job.decoder.end()).text + job.filter.flush();
        if (rest) {
          job.text += rest;
          job.channel.push({ token: -1, text: rest });
        }
      }
    }
    job.channel.end();
    job.settle.resolve({
      tokens: job.generated,
      text: job.text,
      finishReason: reason,
      usage: job.clock.finish(job.prompt.length, job.generated.length),
    });
  }
}

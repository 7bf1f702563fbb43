import type { Dialog, DialogFormat, Message } from '@llama-ts/tokenizer';
import { commonPrefix } from './batch/slots.js';
import { GenerationError } from './errors.js';
import type { Llama } from './llama.js';
import { type StreamDelta, type StreamOptions, type StreamSummary, streamTokens } from './stream.js';

export interface ChatSessionOptions {
  /** A system message that opens the dialog. */
  system?: string;
}

/**
 * A multi-turn chat that keeps the KV cache between turns: each turn encodes the whole dialog,
 * as a fresh chatCompletion would, and prefills only the tokens after the longest prefix already
 * in the cache. The session owns cache slot 0 of its Llama until another call uses the cache;
 * then the next turn prefills from the start (same result, slower).
 */
export class ChatSession {
  readonly #messages: Message[] = [];
  /** The tokens whose keys and values are in cache slot 0, position by position. */
  #cached: number[] = [];

  constructor(
    private readonly llama: Llama,
    private readonly format: DialogFormat,
    private readonly options: ChatSessionOptions = {},
  ) {
    this.reset();
  }

  get messages(): Dialog {
    return [...this.#messages];
  }

  /** Forgets the dialog (keeping the system message). */
  reset(): void {
    this.#messages.length = 0;
    if (this.options.system !== undefined) this.#messages.push({ role: 'system', content: this.options.system });
    this.#cached = [];
  }

  /** Adds a user message and streams the assistant's reply, which joins the dialog when it ends. */
  async *send(content: string, options: StreamOptions = {}): AsyncGenerator<StreamDelta, StreamSummary> {
    if (typeof content !== 'string') throw new GenerationError('ChatSession.send: content must be a string');
    const dialog: Message[] = [...this.#messages, { role: 'user', content }];
    const prompt = this.format.encodeDialogPrompt(dialog);
    const maxSeqLen = this.llama.model.args.maxSeqLen;
    if (prompt.length >= maxSeqLen) {
      throw new GenerationError(
        `ChatSession.send: the dialog is ${prompt.length} tokens, which fills the context (maxSeqLen ${maxSeqLen}); reset() or start a new session`,
      );
    }
    const reusable = this.llama.cacheOwner === this ? commonPrefix(this.#cached, prompt) : 0;
    // At least one prompt token must run through the model to get the logits of the next one.
    const cachedPrefix = Math.min(reusable, prompt.length - 1);
    this.llama.cacheOwner = this;
    this.#cached = [];
    const stream = streamTokens(
      { ...this.llama.loopContext(), cachedPrefix, decoder: this.format.tokenizer.streamDecoder() },
      prompt,
      options,
    );
    let result = await stream.next();
    while (!result.done) {
      yield result.value;
      result = await stream.next();
    }
    const summary = result.value;
    // The cache holds every token fed to the model: the prompt and the generated tokens except the
    // last one sampled (all of them when a stop token ended the turn; counting one fewer then only
    // costs one token of prefill next turn, while counting one too many would reuse a stale slot).
    this.#cached = [...prompt, ...summary.tokens.slice(0, -1)];
    this.#messages.push({ role: 'user', content }, { role: 'assistant', content: summary.text });
    return summary;
  }

  /** `send`, collected: the assistant's reply and the turn's figures. */
  async reply(content: string, options: StreamOptions = {}): Promise<StreamSummary> {
    const stream = this.send(content, options);
    let result = await stream.next();
    while (!result.done) result = await stream.next();
    return result.value;
  }
}

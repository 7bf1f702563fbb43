import type { Dialog, DialogFormat, Message } from '@llama-ts/tokenizer';
import { commonPrefix } from './batch/slots.js';
import { type CacheWindow, resolveContextShift } from './context-shift.js';
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
 *
 * With `contextShift`, the dialog may outgrow the context: the cache keeps the session's fixed
 * prefix (bos and the system message; or `keep` tokens) and the most recent tokens, and the next
 * turn's prompt is the dialog without the tokens dropped so far, so it continues from the cache.
 */
export class ChatSession {
  readonly #messages: Message[] = [];
  /** The tokens whose keys and values are in cache slot 0, position by position. */
  #cached: number[] = [];
  /** The dialog's tokens so far (`#cached` before any context shift dropped some). */
  #history: number[] = [];
  /** What the shifts dropped from `#history`: `#cached` is history[0, keep) + history[keep + dropped, …). */
  #window: CacheWindow = { keep: 0, dropped: 0 };
  #fixedPrefix: number | undefined;

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
    this.#forgetCache();
  }

  /** Adds a user message and streams the assistant's reply, which joins the dialog when it ends. */
  async *send(content: string, options: StreamOptions = {}): AsyncGenerator<StreamDelta, StreamSummary> {
    if (typeof content !== 'string') throw new GenerationError('ChatSession.send: content must be a string');
    const dialog: Message[] = [...this.#messages, { role: 'user', content }];
    const prompt = this.format.encodeDialogPrompt(dialog);
    const maxSeqLen = this.llama.model.args.maxSeqLen;
    const keep = this.#keep(options, prompt, maxSeqLen);
    if (keep === undefined && prompt.length >= maxSeqLen) {
      throw new GenerationError(
        `ChatSession.send: the dialog is ${prompt.length} tokens, which fills the context (maxSeqLen ${maxSeqLen}); reset() or start a new session, or use contextShift`,
      );
    }
    const owned = this.llama.cacheOwner === this;
    // After a shift the cache no longer holds the dialog's start past `keep`: drop the same tokens
    // from this prompt, when it extends what was cached, so that it continues from the cache.
    const { dropped } = this.#window;
    const continues =
      owned && keep === this.#window.keep && commonPrefix(this.#history, prompt) >= this.#window.keep + dropped;
    const given = dropped > 0 && continues ? [...prompt.slice(0, keep), ...prompt.slice(keep + dropped)] : prompt;
    const alreadyDropped = given === prompt ? 0 : dropped;
    const reusable = owned ? commonPrefix(this.#cached, given) : 0;
    // At least one prompt token must run through the model to get the logits of the next one.
    const cachedPrefix = Math.min(reusable, given.length - 1);
    this.llama.cacheOwner = this;
    this.#forgetCache();
    let window: CacheWindow = { keep: keep ?? 0, dropped: 0 };
    const stream = streamTokens(
      {
        ...this.llama.loopContext(),
        cachedPrefix,
        decoder: this.format.tokenizer.streamDecoder(),
        onContextShift: (shifted) => {
          window = shifted;
        },
      },
      given,
      keep === undefined ? options : { ...options, contextShift: { keep } },
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
    const generated = summary.tokens.slice(0, -1);
    const fed = [...given, ...generated];
    this.#cached =
      window.dropped > 0 ? [...fed.slice(0, window.keep), ...fed.slice(window.keep + window.dropped)] : fed;
    this.#history = [...prompt, ...generated];
    this.#window = { keep: window.keep, dropped: alreadyDropped + window.dropped };
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

  #forgetCache(): void {
    this.#cached = [];
    this.#history = [];
    this.#window = { keep: 0, dropped: 0 };
  }

  /** The tokens a context shift keeps (undefined when it is off): `keep`, else the fixed prefix. */
  #keep(options: StreamOptions, prompt: readonly number[], maxSeqLen: number): number | undefined {
    const shift = options.contextShift;
    if (shift === undefined || shift === false || (typeof shift === 'object' && shift?.keep !== undefined)) {
      return resolveContextShift(shift, [prompt], this.format.tokenizer.bosId, maxSeqLen);
    }
    const fixed = this.#fixedPrefixLength();
    return Math.min(fixed, maxSeqLen - 2);
  }

  /**
   * The tokens every prompt of this session starts with: bos and the system message (and what the
   * format puts before the first user message), found as the common prefix of two dialogs that
   * differ only in that message, since the format interface only encodes whole dialogs.
   */
  #fixedPrefixLength(): number {
    if (this.#fixedPrefix === undefined) {
      if (this.options.system === undefined) {
        const bos = this.format.tokenizer.bosId;
        this.#fixedPrefix = this.format.encodeDialogPrompt([{ role: 'user', content: 'a' }])[0] === bos ? 1 : 0;
      } else {
        const opening = (content: string) =>
          this.format.encodeDialogPrompt([
            { role: 'system', content: this.options.system as string },
            { role: 'user', content },
          ]);
        this.#fixedPrefix = commonPrefix(opening('a'), opening('b'));
      }
    }
    return this.#fixedPrefix;
  }
}

import type { StreamDecoder } from '@llama-ts/tokenizer';
import { GenerationError } from './errors.js';
import { allStopTokens, checkPrompts, type GenerateOptions, generationLoop, type LoopContext } from './generate.js';
import type { TokenLogprob } from './probabilities.js';
import { type Usage, UsageClock } from './usage.js';

export interface StreamOptions extends GenerateOptions {
  /** Stop as soon as the text contains one of these; the stop string itself is not emitted. */
  stop?: readonly string[];
}

/** One streamed piece: the token, the text it completed (may be ''), and its log-prob when asked. */
export interface StreamDelta {
  /** The generated token; -1 for text flushed at the very end (an incomplete character's U+FFFD). */
  token: number;
  text: string;
  logprob?: number;
  /** With `topLogprobs`: the most likely tokens at this position, most likely first. */
  topLogprobs?: TokenLogprob[];
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface StreamSummary {
  /** The generated tokens, without the stop token. */
  tokens: number[];
  /** The text streamed, which is also decode(tokens) unless a stop string cut it. */
  text: string;
  finishReason: FinishReason;
  usage: Usage;
}

/**
 * Holds back text that might be the start of a stop string, so that a stop string split across
 * tokens is never half-emitted.
 */
export class StopStringFilter {
  #pending = '';

  constructor(private readonly stops: readonly string[]) {}

  /** The text now safe to emit, and whether a stop string was found (text after it is dropped). */
  push(text: string): { text: string; stopped: boolean } {
    this.#pending += text;
    let cut = -1;
    for (const stop of this.stops) {
      const at = this.#pending.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      const out = this.#pending.slice(0, cut);
      this.#pending = '';
      return { text: out, stopped: true };
    }
    const hold = this.#longestStopPrefixAtEnd();
    const out = this.#pending.slice(0, this.#pending.length - hold);
    this.#pending = this.#pending.slice(this.#pending.length - hold);
    return { text: out, stopped: false };
  }

  /** Whatever was held back, at the end of the stream. */
  flush(): string {
    const out = this.#pending;
    this.#pending = '';
    return out;
  }

  #longestStopPrefixAtEnd(): number {
    let hold = 0;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, this.#pending.length); k > hold; k--) {
        if (this.#pending.endsWith(stop.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    return hold;
  }
}

export function checkStopStrings(stop: unknown): readonly string[] {
  if (stop === undefined) return [];
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new GenerationError('stop must be an array of non-empty strings');
  }
  return stop;
}

/**
 * Streams one sequence token by token. Text comes from the tokenizer's streaming decoder, so a
 * character split across tokens appears once complete. Ends on a stop token, a stop string,
 * maxGenLen, or the abort signal (checked after every token).
 */
export function streamTokens(
  context: LoopContext & { decoder: StreamDecoder },
  prompt: readonly number[],
  options: StreamOptions = {},
): AsyncGenerator<StreamDelta, StreamSummary> {
  // Bad requests fail here, when stream() is called, not at the first next() after a prefill.
  if (options.echo) throw new GenerationError('stream: echo is not supported (the caller has the prompt)');
  checkPrompts(context.model, [prompt], options.maxGenLen ?? context.model.args.maxSeqLen - 1, options);
  const filter = new StopStringFilter(checkStopStrings(options.stop));
  return streamChecked(context, prompt, options, filter);
}

async function* streamChecked(
  context: LoopContext & { decoder: StreamDecoder },
  prompt: readonly number[],
  options: StreamOptions,
  filter: StopStringFilter,
): AsyncGenerator<StreamDelta, StreamSummary> {
  const stopTokens = allStopTokens(context.stopTokens, options.stopTokens);
  const { signal, stop: _stop, ...loopOptions } = options;
  const clock = context.clock ?? new UsageClock();
  const loop = generationLoop({ ...context, clock }, [prompt], loopOptions);
  const tokens: number[] = [];
  let text = '';
  let finishReason: FinishReason = 'length';
  try {
    for (let step = await loop.next(); !step.done; step = await loop.next()) {
      if (!step.value.generated[0]) continue;
      const token = step.value.next[0] as number;
      if (stopTokens.has(token)) {
        finishReason = 'stop';
        break;
      }
      tokens.push(token);
      const piece = filter.push(context.decoder.push(token));
      text += piece.text;
      const delta: StreamDelta = { token, text: piece.text };
      if (step.value.logprobs) delta.logprob = step.value.logprobs[0] as number;
      if (step.value.topLogprobs) delta.topLogprobs = step.value.topLogprobs[0] as TokenLogprob[];
      yield delta;
      if (piece.stopped) {
        finishReason = 'stop';
        break;
      }
      if (signal?.aborted) {
        finishReason = 'abort';
        break;
      }
    }
  } finally {
    await loop.return(undefined as never);
  }
  if (finishReason !== 'stop') {
    // Bytes held by the decoder (an incomplete character) or text held for a possible stop string.
    const rest = filter.push(context.decoder.end()).text + filter.flush();
    text += rest;
    if (rest) yield { token: -1, text: rest };
  } else {
    context.decoder.end();
  }
  const promptTokens = prompt.length;
  return { tokens, text, finishReason, usage: clock.finish(promptTokens, tokens.length) };
}

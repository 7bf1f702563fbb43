import type { StreamDelta, TokenLogprob } from '@llama-ts/generation';
import type { TextTokenizer } from '@llama-ts/tokenizer';

// OpenAI's response shapes for completions and chat completions, built from generation's deltas.

export type Kind = 'completion' | 'chat';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** A token's text and bytes as OpenAI reports them (a token that splits a character shows U+FFFD). */
export class TokenSpeller {
  constructor(private readonly tokenizer: TextTokenizer) {}

  text(token: number): string {
    return this.tokenizer.decode([token]);
  }

  bytes(token: number): number[] {
    const withBytes = this.tokenizer as TextTokenizer & { tokenBytes?: (id: number) => Uint8Array };
    return Array.from(withBytes.tokenBytes ? withBytes.tokenBytes(token) : Buffer.from(this.text(token), 'utf8'));
  }
}

/** The log-prob of one generated token with its alternatives, kept until the response is written. */
export interface TokenLogprobs {
  token: number;
  logprob: number;
  top: readonly TokenLogprob[];
}

export function tokenLogprobsOf(delta: StreamDelta): TokenLogprobs | undefined {
  if (delta.token < 0 || delta.logprob === undefined) return undefined;
  return { token: delta.token, logprob: delta.logprob, top: delta.topLogprobs ?? [] };
}

/** Chat's `logprobs: { content: [{ token, logprob, bytes, top_logprobs }] }`. */
export function chatLogprobs(entries: readonly TokenLogprobs[], speller: TokenSpeller) {
  const spell = (token: number, logprob: number) => ({
    token: speller.text(token),
    logprob,
    bytes: speller.bytes(token),
  });
  return {
    content: entries.map((e) => ({
      ...spell(e.token, e.logprob),
      top_logprobs: e.top.map((t) => spell(t.token, t.logprob)),
    })),
  };
}

/**
 * Completions' `logprobs: { tokens, token_logprobs, top_logprobs, text_offset }`. text_offset counts
 * UTF-16 units from the start of the choice's text (`offset` for a streamed chunk after the first).
 */
export function completionLogprobs(entries: readonly TokenLogprobs[], speller: TokenSpeller, offset = 0) {
  const tokens = entries.map((e) => speller.text(e.token));
  const textOffset: number[] = [];
  let at = offset;
  for (const text of tokens) {
    textOffset.push(at);
    at += text.length;
  }
  return {
    tokens,
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: entries.map((e) => Object.fromEntries(e.top.map((t) => [speller.text(t.token), t.logprob]))),
    text_offset: textOffset,
  };
}

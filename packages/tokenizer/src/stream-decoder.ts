/**
 * Turns a stream of token ids into text without ever showing a half-decoded character. Tokens are
 * byte strings, and one UTF-8 character (an emoji, a CJK ideograph) is often split across two or
 * three of them; TextDecoder in streaming mode holds back an incomplete sequence until its last
 * byte arrives. Invalid bytes still become U+FFFD exactly as a one-shot `decode` would, so the
 * concatenation of everything `push` and `end` return equals `decode(allIds)`.
 */
export interface StreamDecoder {
  /** Adds one token; returns the text that became complete (often '', sometimes several characters). */
  push(id: number): string;
  /** Flushes bytes still held back (each incomplete sequence becomes U+FFFD) and resets the decoder. */
  end(): string;
}

export function createStreamDecoder(tokenBytes: (id: number) => Uint8Array): StreamDecoder {
  const decoder = new TextDecoder();
  return {
    push: (id) => decoder.decode(tokenBytes(id), { stream: true }),
    end: () => decoder.decode(),
  };
}

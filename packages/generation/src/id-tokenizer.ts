import type { StreamDecoder, TextTokenizer } from '@llama-ts/tokenizer';

const idTokenizers = new WeakSet<TextTokenizer>();

/** Whether `tokenizer` is one idTokenizer made (a model driven by token ids, without a real tokenizer). */
export function isIdTokenizer(tokenizer: TextTokenizer): boolean {
  return idTokenizers.has(tokenizer);
}

/**
 * A stand-in tokenizer for checkpoints that come without one (test models, models driven by ids):
 * id n is spelled `<n>`, `<n>` is read back as id n, and the only stop tokens are those given.
 */
export function idTokenizer(nWords: number, stopTokens: readonly number[] = []): TextTokenizer {
  const spell = (id: number) => `<${id}>`;
  const tokenizer: TextTokenizer = {
    nWords,
    bosId: -1,
    eosId: -1,
    padId: -1,
    stopTokens: new Set(stopTokens),
    encode: (text) => Array.from(text.matchAll(/<(\d+)>/g), (m) => Number(m[1])),
    decode: (ids) => Array.from(ids, spell).join(''),
    streamDecoder: (): StreamDecoder => ({ push: spell, end: () => '' }),
  };
  idTokenizers.add(tokenizer);
  return tokenizer;
}

import type { StreamDecoder, TextTokenizer } from '@llama-ts/tokenizer';
import { GenerationError } from './errors.js';

const idTokenizers = new WeakSet<TextTokenizer>();

/** Whether `tokenizer` is one idTokenizer made (a model driven by token ids, without a real tokenizer). */
export function isIdTokenizer(tokenizer: TextTokenizer): boolean {
  return idTokenizers.has(tokenizer);
}

/**
 * Text as `<n>` ids, whitespace between them allowed. Any other text is an error rather than
 * dropped: a prompt of words given to a model without a tokenizer must not silently become fewer
 * tokens (or none). `why` says why there is no tokenizer.
 */
function readIds(text: string, why: string | undefined): number[] {
  const ids: number[] = [];
  const pattern = /\s*<(\d+)>|\s+$/y;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) {
      const rest = text.slice(at).trimStart();
      throw new GenerationError(
        `without a tokenizer${why ? ` (${why})` : ''}, text is read only as token ids spelled <n> (e.g. "<1><2>"); ` +
          `found ${JSON.stringify(rest.length > 30 ? `${rest.slice(0, 30)}…` : rest)} at character ${text.length - rest.length}`,
      );
    }
    if (match[1] !== undefined) ids.push(Number(match[1]));
    at = pattern.lastIndex;
  }
  return ids;
}

/**
 * A stand-in tokenizer for checkpoints that come without one (test models, models driven by ids):
 * id n is spelled `<n>`, `<n>` is read back as id n (any other text is an error naming it, with
 * `why` there is no tokenizer), and the only stop tokens are those given.
 */
export function idTokenizer(nWords: number, stopTokens: readonly number[] = [], why?: string): TextTokenizer {
  const spell = (id: number) => `<${id}>`;
  const tokenizer: TextTokenizer = {
    nWords,
    bosId: -1,
    eosId: -1,
    padId: -1,
    stopTokens: new Set(stopTokens),
    encode: (text) => readIds(text, why),
    decode: (ids) => Array.from(ids, spell).join(''),
    streamDecoder: (): StreamDecoder => ({ push: spell, end: () => '' }),
  };
  idTokenizers.add(tokenizer);
  return tokenizer;
}

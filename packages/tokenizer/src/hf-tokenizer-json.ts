import type { BPEVocabulary } from './bpe-vocabulary.js';
import { describeValue, TokenizerError, UnsupportedTokenizerError } from './errors.js';
import { LLAMA3_PATTERN } from './tokenizer.js';

/**
 * Hugging Face's `tokenizer.json` (the tokenizers library's format) for a byte-level BPE with Llama
 * 3's pre-tokenizer, as a BPEVocabulary: `model.vocab` and `added_tokens` give every id's token (the
 * added ones are special), `model.merges` the merges. A different model type or pre-tokenizer regex
 * is refused with an UnsupportedTokenizerError (its ids would not be Llama 3's; callers that can go on
 * token ids catch it); malformed fields of a Llama 3 file are a TokenizerError.
 */
export function vocabularyFromHFTokenizerJSON(json: unknown, source: string): BPEVocabulary {
  const root = json as { model?: Record<string, unknown>; added_tokens?: unknown; pre_tokenizer?: unknown };
  const model = root?.model;
  if (typeof model !== 'object' || model === null || model.type !== 'BPE') {
    throw notLlama3(source, `field "model.type" is ${describeValue(model?.type)}, not "BPE"`);
  }
  checkLlama3PreTokenizer(root.pre_tokenizer, source);
  const vocab = model.vocab;
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    throw new TokenizerError(`${source}: field "model.vocab" must be an object of token → id`);
  }
  const tokens: string[] = [];
  const place = (token: string, id: unknown, where: string) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 10_000_000) {
      throw new TokenizerError(`${source}: ${where} has id ${describeValue(id)}; expected a non-negative integer`);
    }
    if (tokens[id] !== undefined && tokens[id] !== token) {
      throw new TokenizerError(
        `${source}: id ${id} is both ${JSON.stringify(tokens[id])} and ${JSON.stringify(token)}`,
      );
    }
    tokens[id] = token;
  };
  for (const [token, id] of Object.entries(vocab)) place(token, id, `model.vocab ${JSON.stringify(token)}`);
  const specialIds = new Set<number>();
  const added = root.added_tokens ?? [];
  if (!Array.isArray(added)) throw new TokenizerError(`${source}: field "added_tokens" must be an array`);
  added.forEach((entry: { id?: unknown; content?: unknown }, i) => {
    if (typeof entry?.content !== 'string') {
      throw new TokenizerError(`${source}: added_tokens[${i}].content must be a string`);
    }
    place(entry.content, entry.id, `added_tokens[${i}]`);
    specialIds.add(entry.id as number);
  });
  for (let id = 0; id < tokens.length; id++) {
    if (tokens[id] === undefined)
      throw new TokenizerError(`${source}: no token has id ${id}; ids must be 0..${tokens.length - 1}`);
  }
  const merges = model.merges ?? [];
  if (!Array.isArray(merges)) throw new TokenizerError(`${source}: field "model.merges" must be an array`);
  return { tokens, specialIds, merges, source };
}

/** A tokenizer.json that is not Llama 3's byte-level BPE: why, and what to give instead. */
function notLlama3(source: string, why: string): UnsupportedTokenizerError {
  return new UnsupportedTokenizerError(
    `${source} is a Hugging Face tokenizers file (transformers' tokenizer.json), which llama-ts does not read yet; ` +
      `${why} (only Llama 3's byte-level BPE tokenizer.json is read): ` +
      "use the model's tiktoken tokenizer.model instead (llama-ts: --tokenizer <download>/original/tokenizer.model), or give token ids (--prompt-tokens)",
  );
}

/** The pre-tokenizer must split with Llama 3's regex (a Split inside a Sequence, with ByteLevel). */
function checkLlama3PreTokenizer(preTokenizer: unknown, source: string): void {
  const steps: unknown[] = [];
  const walk = (node: unknown) => {
    if (typeof node !== 'object' || node === null) return;
    steps.push(node);
    const children = (node as { pretokenizers?: unknown }).pretokenizers;
    if (Array.isArray(children)) children.forEach(walk);
  };
  walk(preTokenizer);
  const split = steps.find((step) => (step as { type?: unknown }).type === 'Split') as
    | { pattern?: { Regex?: unknown } }
    | undefined;
  if (split?.pattern?.Regex !== LLAMA3_PATTERN) {
    throw notLlama3(source, "the pre-tokenizer does not split with Llama 3's regex");
  }
}

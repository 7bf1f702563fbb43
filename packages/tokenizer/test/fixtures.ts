import { readSharedText, sharedPath } from '@llama-ts/test-support';
import { byteLevelVocabularyFromRanks, LLAMA3_PATTERN, loadTokenizer, Tokenizer } from '../src/node.js';

let tokenizer: Promise<Tokenizer> | undefined;

/** The real Llama 3 tokenizer from ../shared, loaded once per test file. */
export function llama3Tokenizer(): Promise<Tokenizer> {
  tokenizer ??= loadTokenizer(sharedPath('data', 'llama3', 'tokenizer.model'));
  return tokenizer;
}

let vocabulary: ReturnType<typeof byteLevelVocabularyFromRanks> | undefined;

/** tokenizer.model as the byte-level vocabulary a GGUF (or tokenizer.json) stores: tokens, types, merges. */
export function llama3ByteLevelVocabulary(): ReturnType<typeof byteLevelVocabularyFromRanks> {
  vocabulary ??= byteLevelVocabularyFromRanks(readSharedText('data', 'llama3', 'tokenizer.model'), 'tokenizer.model');
  return vocabulary;
}

/** The Llama 3 tokenizer built from the GGUF-style vocabulary (as tokenizer.ggml.* would give it). */
export function llama3TokenizerFromVocabulary(): Tokenizer {
  const { tokens, tokenTypes, merges } = llama3ByteLevelVocabulary();
  return Tokenizer.fromBPEVocabulary({
    tokens,
    tokenTypes,
    merges,
    bosId: 128000,
    eosId: 128001,
    source: 'gguf-style',
  });
}

/** The same vocabulary as Hugging Face's tokenizer.json for Llama 3 (the fields that matter). */
export function llama3HFTokenizerJSON(): unknown {
  const { tokens, tokenTypes, merges } = llama3ByteLevelVocabulary();
  const vocab: Record<string, number> = {};
  const added: { id: number; content: string; special: boolean }[] = [];
  tokens.forEach((token, id) => {
    if (tokenTypes[id] === 1) vocab[token] = id;
    else added.push({ id, content: token, special: true });
  });
  return {
    version: '1.0',
    added_tokens: added,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    model: { type: 'BPE', ignore_merges: true, vocab, merges },
  };
}

import { findTokenizerFile, type GGUFMetadata, TOKENIZER_FILES } from '@llama-ts/model';
import { loadAnyTokenizer, type TextTokenizer, UnsupportedTokenizerError } from '@llama-ts/tokenizer/node';
import { GenerationError } from './errors.js';
import {
  type GGUFTokenizer,
  tokenizerFromGGUF,
  tokenizerFromGGUFMetadata,
  UnsupportedVocabularyError,
} from './gguf-tokenizer.js';
import { idTokenizer } from './id-tokenizer.js';
import type { BuildOptions, LlamaOptions } from './llama.js';

// How Llama.build finds and opens a checkpoint's tokenizer, kept apart from the model loading so
// that a worker thread (prompt-encoder.ts) can open the same tokenizer without loading weights.

/** The build options that decide the tokenizer. */
export type TokenizerOptions = Pick<
  BuildOptions,
  'ckptDir' | 'tokenizerPath' | 'withoutTokenizer' | 'stopTokens' | 'log'
>;

/**
 * What reopens a built Llama's tokenizer elsewhere (a worker): its build options, the model's
 * vocabulary size (for the id tokenizer of a model without one) and whether the checkpoint is a GGUF.
 */
export interface TokenizerSource {
  options: Omit<TokenizerOptions, 'log'>;
  isGGUF: boolean;
  vocabSize: number;
}

/** A tokenizer and what the checkpoint says about using it. */
export interface OpenedTokenizer {
  tokenizer: TextTokenizer;
  addBos?: boolean;
  addEos?: boolean;
  chatTemplate?: string;
}

/** No tokenizer, and why (for the id tokenizer's message when text is given). */
export interface NoTokenizer {
  tokenizer: undefined;
  reason: string;
}

/**
 * The tokenizer in a GGUF's metadata (Llama.build hands it the header the model loader read, so the
 * file is read once), or why there is none: with withoutTokenizer 'ids', a file without one or with
 * a vocabulary llama-ts cannot read (with a note to log) opens on ids.
 */
export function openGGUFTokenizer(metadata: GGUFMetadata, options: TokenizerOptions): OpenedTokenizer | NoTokenizer {
  return fromGGUF(() => tokenizerFromGGUFMetadata(metadata), options);
}

/** The same from the file (a worker thread reopening a built Llama's tokenizer). */
async function ggufTokenizerFromFile(options: TokenizerOptions): Promise<OpenedTokenizer | NoTokenizer> {
  let found: GGUFTokenizer | undefined;
  try {
    found = await tokenizerFromGGUF(options.ckptDir);
  } catch (error) {
    return unsupported(error, options);
  }
  return fromGGUF(() => found, options);
}

function fromGGUF(read: () => GGUFTokenizer | undefined, options: TokenizerOptions): OpenedTokenizer | NoTokenizer {
  let opened: GGUFTokenizer | undefined;
  try {
    opened = read();
  } catch (error) {
    return unsupported(error, options);
  }
  if (opened !== undefined) {
    checkNoStopTokens(options);
    return opened;
  }
  if (options.withoutTokenizer === 'ids') {
    return { tokenizer: undefined, reason: `${options.ckptDir} has no tokenizer (tokenizer.ggml.*)` };
  }
  throw new GenerationError(
    `Llama.build: no tokenizerPath given and ${options.ckptDir} has no tokenizer (tokenizer.ggml.*) (withoutTokenizer: 'ids' opens it with token ids only)`,
  );
}

/** With withoutTokenizer 'ids', a vocabulary llama-ts cannot read is a note and a model on ids; else the error. */
function unsupported(error: unknown, options: TokenizerOptions): NoTokenizer {
  if (!(error instanceof UnsupportedVocabularyError) || options.withoutTokenizer !== 'ids') throw error;
  options.log?.(`${error.message}; driving the model with token ids`);
  return { tokenizer: undefined, reason: error.message };
}

/**
 * The tokenizer `options` name, or the GGUF's, or the one ckptDir holds, or why there is none (a
 * model driven by token ids): no tokenizer, or (with withoutTokenizer 'ids') one found in ckptDir or
 * the GGUF in a format not read yet, such as a tokenizer.json that is not Llama 3's or a SentencePiece
 * vocabulary, so that such a model still runs on token ids.
 */
export async function openTokenizer(
  options: TokenizerOptions,
  isGGUF: boolean,
): Promise<OpenedTokenizer | NoTokenizer> {
  if (options.tokenizerPath === undefined && isGGUF) return ggufTokenizerFromFile(options);
  const path = options.tokenizerPath ?? (await findTokenizerFile(options.ckptDir));
  if (path === undefined) {
    if (options.withoutTokenizer === 'ids') {
      return { tokenizer: undefined, reason: `${options.ckptDir} has no ${TOKENIZER_FILES.join(' or ')}` };
    }
    throw new GenerationError(
      `Llama.build: no tokenizerPath given and ${options.ckptDir} has neither ${TOKENIZER_FILES.join(' nor ')} (withoutTokenizer: 'ids' opens it with token ids only)`,
    );
  }
  let tokenizer: TextTokenizer;
  try {
    tokenizer = await loadAnyTokenizer(path);
  } catch (error) {
    const found = options.tokenizerPath === undefined;
    if (found && options.withoutTokenizer === 'ids' && error instanceof UnsupportedTokenizerError) {
      return { tokenizer: undefined, reason: error.message };
    }
    throw error;
  }
  checkNoStopTokens(options);
  return { tokenizer };
}

function checkNoStopTokens(options: TokenizerOptions): void {
  if (options.stopTokens !== undefined) {
    throw new GenerationError(
      'Llama.build: stopTokens is for checkpoints without a tokenizer (the tokenizer has its own stop tokens)',
    );
  }
}

/** The tokenizer to hand to `new Llama` (the id tokenizer when there is none) and its Llama options. */
export function textSideOf(
  opened: OpenedTokenizer | NoTokenizer,
  vocabSize: number,
  stopTokens: readonly number[] | undefined,
): { tokenizer: TextTokenizer; options: LlamaOptions } {
  if (opened.tokenizer === undefined) {
    return { tokenizer: idTokenizer(vocabSize, stopTokens, opened.reason), options: {} };
  }
  return {
    tokenizer: opened.tokenizer,
    options: {
      ...(opened.addBos !== undefined ? { addBos: opened.addBos } : {}),
      ...(opened.addEos !== undefined ? { addEos: opened.addEos } : {}),
      ...(opened.chatTemplate !== undefined ? { chatTemplate: opened.chatTemplate } : {}),
    },
  };
}

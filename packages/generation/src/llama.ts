import {
  type Backend,
  type BackendChoice,
  findTokenizerFile,
  type LlamaFamily,
  type LoadProgress,
  loadModel,
  TOKENIZER_FILES,
  type Transformer,
  type WeightStorage,
} from '@llama-ts/model';
import {
  type Dialog,
  type DialogFormat,
  dialogFormatFor,
  loadAnyTokenizer,
  type TextTokenizer,
  tokenizerFamily,
  UnsupportedTokenizerError,
} from '@llama-ts/tokenizer/node';
import { ChatSession, type ChatSessionOptions } from './chat-session.js';
import { GenerationError } from './errors.js';
import { type GenerateOptions, type GenerateResult, generate, type LoopContext } from './generate.js';
import { idTokenizer, isIdTokenizer } from './id-tokenizer.js';
import type { LanguageModel } from './model.js';
import { createSamplingRng, type SamplingRng } from './sampling-rng.js';
import { type StreamDelta, type StreamOptions, type StreamSummary, streamTokens } from './stream.js';
import type { Usage } from './usage.js';

export interface BuildOptions {
  /** A Meta (`params.json` + `consolidated.NN.pth`) or Hugging Face (`config.json` + safetensors) folder. */
  ckptDir: string;
  /**
   * Llama 3's `tokenizer.model` (tiktoken), Llama 1/2's `tokenizer.model` (SentencePiece), or a
   * CharTokenizer's `tokenizer.json`. Default: whichever is in ckptDir.
   */
  tokenizerPath?: string;
  /**
   * When there is no tokenizer (no tokenizerPath, none in ckptDir): 'throw' (default), or 'ids' to
   * drive the model with token ids, spelled `<n>` in text (see idTokenizer).
   */
  withoutTokenizer?: 'throw' | 'ids';
  /** Stop token ids for a model opened without a tokenizer (a tokenizer brings its own). */
  stopTokens?: readonly number[];
  maxSeqLen?: number;
  maxBatchSize?: number;
  /**
   * A backend, or which to create: 'auto' (default: WebGPU on a hardware GPU, else wasm), 'webgpu',
   * 'wasm' or 'cpu'.
   */
  backend?: Backend | BackendChoice;
  weightStorage?: WeightStorage;
  /** Seeds the sampler's random stream (default 1, as the reference's torch.manual_seed). */
  seed?: number;
  onProgress?: (progress: LoadProgress) => void;
}

export interface CompletionOptions extends Omit<GenerateOptions, 'echo'> {}

export interface TextCompletion {
  generation: string;
  /** With logprobs: each token decoded on its own (a partial character shows as U+FFFD), as the reference. */
  tokens?: string[];
  tokenIds?: number[];
  logprobs?: number[];
  usage: Usage;
}

export interface ChatCompletion {
  generation: { role: 'assistant'; content: string };
  tokens?: string[];
  tokenIds?: number[];
  logprobs?: number[];
  usage: Usage;
}

function isTokenIds(prompt: Dialog | readonly number[]): prompt is readonly number[] {
  return prompt.length > 0 && typeof prompt[0] === 'number';
}

/**
 * The tokenizer `options` name or ckptDir holds, or why there is none (a model driven by token ids):
 * no tokenizer file, or (with withoutTokenizer 'ids') one found in ckptDir in a format not read yet,
 * such as Hugging Face's tokenizer.json, so that such a folder still runs on token ids.
 */
async function openTokenizer(
  options: BuildOptions,
): Promise<{ tokenizer: TextTokenizer } | { tokenizer: undefined; reason: string }> {
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
  if (options.stopTokens !== undefined) {
    throw new GenerationError(
      'Llama.build: stopTokens is for checkpoints without a tokenizer (the tokenizer has its own stop tokens)',
    );
  }
  return { tokenizer };
}

/**
 * The reference's `Llama`: a model and its tokenizer, with generate, textCompletion and
 * chatCompletion as in llama/generation.py, plus streaming and chat sessions.
 */
export class Llama {
  /** The chat format of the tokenizer's family (Llama 3's headers or Llama 2's [INST]); none for a character tokenizer. */
  readonly chatFormat: DialogFormat | undefined;
  /**
   * Which Llama generation this is: the tokenizer's (tiktoken → 'llama3', SentencePiece → 'llama2'),
   * else what the checkpoint says (ModelArgs.family), else 'llama3'.
   */
  readonly family: LlamaFamily;
  /** False when the model is driven by token ids (see idTokenizer): there is no real tokenizer. */
  readonly hasTokenizer: boolean;
  #rng: SamplingRng;
  /** Which chat session's tokens the KV cache's slot 0 holds, if any. */
  cacheOwner: ChatSession | undefined;

  constructor(
    readonly model: LanguageModel & { dispose?(): void },
    readonly tokenizer: TextTokenizer,
    options: { seed?: number } = {},
  ) {
    if (model.args.vocabSize !== tokenizer.nWords) {
      throw new GenerationError(
        `the model's vocabulary (${model.args.vocabSize}) and the tokenizer's (${tokenizer.nWords}) differ: they do not belong together`,
      );
    }
    this.#rng = createSamplingRng(options.seed ?? 1);
    this.chatFormat = dialogFormatFor(tokenizer);
    this.family = tokenizerFamily(tokenizer) ?? model.args.family ?? 'llama3';
    this.hasTokenizer = !isIdTokenizer(tokenizer);
  }

  static async build(options: BuildOptions): Promise<Llama> {
    if (!options || typeof options.ckptDir !== 'string') throw new GenerationError('Llama.build: ckptDir is required');
    const opened = await openTokenizer(options);
    const tokenizer = opened.tokenizer;
    // Llama 1/2's params.json leaves the vocabulary size and the RoPE base to the tokenizer's family.
    const family = tokenizer ? tokenizerFamily(tokenizer) : undefined;
    const model: Transformer = await loadModel(options.ckptDir, {
      ...(tokenizer ? { vocabSize: tokenizer.nWords } : {}),
      ...(family ? { family } : {}),
      ...(options.backend !== undefined ? { backend: options.backend } : {}),
      ...(options.maxSeqLen !== undefined ? { maxSeqLen: options.maxSeqLen } : {}),
      ...(options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {}),
      ...(options.weightStorage ? { weightStorage: options.weightStorage } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    try {
      return new Llama(
        model,
        tokenizer ?? idTokenizer(model.args.vocabSize, options.stopTokens, opened.reason),
        options.seed !== undefined ? { seed: options.seed } : {},
      );
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  /** Restarts the sampler's random stream. */
  reseed(seed: number): void {
    this.#rng = createSamplingRng(seed);
  }

  /** Token-level generation with the reference's exact semantics (see GenerateOptions). */
  generate(promptTokens: readonly (readonly number[])[], options: GenerateOptions = {}): Promise<GenerateResult> {
    this.cacheOwner = undefined;
    return generate(this.loopContext(), promptTokens, options);
  }

  async textCompletion(prompts: readonly string[], options: CompletionOptions = {}): Promise<TextCompletion[]> {
    if (!Array.isArray(prompts)) throw new GenerationError('textCompletion: prompts must be an array of strings');
    const promptTokens = prompts.map((p, i) => {
      if (typeof p !== 'string') throw new GenerationError(`textCompletion: prompts[${i}] must be a string`);
      return this.tokenizer.encode(p, { bos: true, eos: false });
    });
    const result = await this.generate(promptTokens, options);
    return result.tokens.map((ids, i) => ({
      generation: this.tokenizer.decode(ids),
      ...this.#tokenDetails(ids, result.logprobs?.[i]),
      usage: result.usage,
    }));
  }

  async chatCompletion(dialogs: readonly Dialog[], options: CompletionOptions = {}): Promise<ChatCompletion[]> {
    const format = this.#requireChatFormat('chatCompletion');
    if (!Array.isArray(dialogs)) throw new GenerationError('chatCompletion: dialogs must be an array of dialogs');
    const promptTokens = dialogs.map((dialog) => format.encodeDialogPrompt(dialog));
    const result = await this.generate(promptTokens, options);
    return result.tokens.map((ids, i) => ({
      generation: { role: 'assistant' as const, content: this.tokenizer.decode(ids) },
      ...this.#tokenDetails(ids, result.logprobs?.[i]),
      usage: result.usage,
    }));
  }

  /**
   * Streams the completion of a text prompt (encoded with BOS), a dialog, or prompt token ids. Iterate for deltas;
   * the iterator's return value (or `for await` plus `.summary`) has the tokens, text and usage.
   */
  stream(
    prompt: string | Dialog | readonly number[],
    options: StreamOptions = {},
  ): AsyncGenerator<StreamDelta, StreamSummary> {
    const tokens =
      typeof prompt === 'string'
        ? this.tokenizer.encode(prompt, { bos: true, eos: false })
        : isTokenIds(prompt)
          ? prompt
          : this.#requireChatFormat('stream').encodeDialogPrompt(prompt as Dialog);
    this.cacheOwner = undefined;
    return streamTokens({ ...this.loopContext(), decoder: this.tokenizer.streamDecoder() }, tokens, options);
  }

  /** A multi-turn chat that keeps its KV cache between turns (it owns cache slot 0 until another call). */
  chatSession(options: ChatSessionOptions = {}): ChatSession {
    return new ChatSession(this, this.#requireChatFormat('chatSession'), options);
  }

  /** Frees the model (and its backend, when Llama.build created it). */
  dispose(): void {
    this.model.dispose?.();
  }

  /** @internal The pieces the generation loop needs. */
  loopContext(): LoopContext {
    return { model: this.model, rng: this.#rng, stopTokens: this.tokenizer.stopTokens };
  }

  #requireChatFormat(what: string): DialogFormat {
    if (!this.chatFormat) {
      throw new GenerationError(
        `${what} needs a Llama 3 or Llama 2 tokenizer (a chat format); this model has ${this.hasTokenizer ? 'a character tokenizer' : 'no tokenizer'}`,
      );
    }
    return this.chatFormat;
  }

  #tokenDetails(ids: number[], logprobs: number[] | undefined) {
    if (!logprobs) return {};
    return { tokens: ids.map((id) => this.tokenizer.decode([id])), tokenIds: ids, logprobs };
  }
}

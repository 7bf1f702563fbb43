import {
  type Backend,
  type BackendChoice,
  findTokenizerFile,
  type GGUFMetadata,
  isGGUFFile,
  type LlamaFamily,
  type LoadModelOptions,
  type LoadProgress,
  loadModel,
  TOKENIZER_FILES,
  type Transformer,
  type WeightStorage,
} from '@llama-ts/model';
import {
  type Dialog,
  type DialogFormat,
  loadAnyTokenizer,
  type TextTokenizer,
  tokenizerFamily,
  UnsupportedTokenizerError,
} from '@llama-ts/tokenizer/node';
import { ChatSession, type ChatSessionOptions } from './chat-session.js';
import { type ChatAvailability, chatAvailability } from './chat-template.js';
import { GenerationError } from './errors.js';
import { type GenerateOptions, type GenerateResult, generate, type LoopContext } from './generate.js';
import { tokenizerFromGGUFMetadata, UnsupportedVocabularyError } from './gguf-tokenizer.js';
import { idTokenizer, isIdTokenizer } from './id-tokenizer.js';
import type { LanguageModel } from './model.js';
import { createSamplingRng, type SamplingRng } from './sampling-rng.js';
import { type StreamDelta, type StreamOptions, type StreamSummary, streamTokens } from './stream.js';
import type { Usage } from './usage.js';

export interface BuildOptions {
  /**
   * A Meta (`params.json` + `consolidated.NN.pth`) or Hugging Face (`config.json` + safetensors)
   * folder, or a GGUF file (`llama` architecture; its tokenizer and chat template come with it).
   */
  ckptDir: string;
  /**
   * Llama 3's `tokenizer.model` (tiktoken), Llama 1/2's `tokenizer.model` (SentencePiece), a
   * Hugging Face Llama 3 `tokenizer.json`, or a CharTokenizer's `tokenizer.json`. Default: the GGUF
   * file's own, or whichever is in ckptDir.
   */
  tokenizerPath?: string;
  /**
   * When there is no tokenizer (no tokenizerPath, none in ckptDir or the GGUF, or a GGUF vocabulary
   * llama-ts cannot read): 'throw' (default), or 'ids' to drive the model with token ids,
   * spelled `<n>` in text (see idTokenizer).
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
  /** Notes worth a line (a GGUF vocabulary opened as ids because llama-ts cannot read it). */
  log?: (message: string) => void;
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

/** A tokenizer and what the checkpoint says about using it. */
interface OpenedTokenizer {
  tokenizer: TextTokenizer;
  addBos?: boolean;
  addEos?: boolean;
  chatTemplate?: string;
}

/** No tokenizer, and why (for the id tokenizer's message when text is given). */
interface NoTokenizer {
  tokenizer: undefined;
  reason: string;
}

/**
 * The tokenizer in a GGUF's metadata (read once, with the model's header), or why there is none:
 * with withoutTokenizer 'ids', a file without one or with a vocabulary llama-ts cannot read (with a
 * note to log) opens on ids.
 */
function ggufTokenizer(metadata: GGUFMetadata, options: BuildOptions): OpenedTokenizer | NoTokenizer {
  let opened: OpenedTokenizer | undefined;
  try {
    opened = tokenizerFromGGUFMetadata(metadata);
  } catch (error) {
    if (!(error instanceof UnsupportedVocabularyError) || options.withoutTokenizer !== 'ids') throw error;
    options.log?.(`${error.message}; driving the model with token ids`);
    return { tokenizer: undefined, reason: error.message };
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

/**
 * The tokenizer `options` name or the one ckptDir holds, or why there is none (a model driven by
 * token ids): no tokenizer, or (with withoutTokenizer 'ids') one found in ckptDir in a format
 * llama-ts does not read, such as a tokenizer.json that is not Llama 3's, so that such a model still
 * runs on token ids. (A GGUF's own tokenizer comes from ggufTokenizer.)
 */
async function openTokenizer(options: BuildOptions): Promise<OpenedTokenizer | NoTokenizer> {
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

function checkNoStopTokens(options: BuildOptions): void {
  if (options.stopTokens !== undefined) {
    throw new GenerationError(
      'Llama.build: stopTokens is for checkpoints without a tokenizer (the tokenizer has its own stop tokens)',
    );
  }
}

export interface LlamaOptions {
  seed?: number;
  /** Prepend the begin-of-text id to text prompts (default true; a GGUF's add_bos_token). */
  addBos?: boolean;
  /** Append the end-of-text id to text prompts (default false; a GGUF's add_eos_token). */
  addEos?: boolean;
  /** The model's chat template (a GGUF's tokenizer.chat_template), which picks the chat format. */
  chatTemplate?: string;
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
  readonly #chat: ChatAvailability;
  readonly #addBos: boolean;
  readonly #addEos: boolean;
  /** False when the model is driven by token ids (see idTokenizer): there is no real tokenizer. */
  readonly hasTokenizer: boolean;
  #rng: SamplingRng;
  /** Which chat session's tokens the KV cache's slot 0 holds, if any. */
  cacheOwner: ChatSession | undefined;

  constructor(
    readonly model: LanguageModel & { dispose?(): void },
    readonly tokenizer: TextTokenizer,
    options: LlamaOptions = {},
  ) {
    if (model.args.vocabSize !== tokenizer.nWords) {
      throw new GenerationError(
        `the model's vocabulary (${model.args.vocabSize}) and the tokenizer's (${tokenizer.nWords}) differ: they do not belong together`,
      );
    }
    this.#rng = createSamplingRng(options.seed ?? 1);
    this.#chat = chatAvailability(tokenizer, options.chatTemplate);
    this.chatFormat = 'format' in this.#chat ? this.#chat.format : undefined;
    this.family = tokenizerFamily(tokenizer) ?? model.args.family ?? 'llama3';
    this.#addBos = options.addBos ?? true;
    this.#addEos = options.addEos ?? false;
    this.hasTokenizer = !isIdTokenizer(tokenizer);
  }

  static async build(options: BuildOptions): Promise<Llama> {
    if (!options || typeof options.ckptDir !== 'string') throw new GenerationError('Llama.build: ckptDir is required');
    const loadOptions: LoadModelOptions = {
      ...(options.backend !== undefined ? { backend: options.backend } : {}),
      ...(options.maxSeqLen !== undefined ? { maxSeqLen: options.maxSeqLen } : {}),
      ...(options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {}),
      ...(options.weightStorage ? { weightStorage: options.weightStorage } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    };
    let opened: OpenedTokenizer | NoTokenizer | undefined;
    let model: Transformer;
    if (options.tokenizerPath === undefined && (await isGGUFFile(options.ckptDir))) {
      // The GGUF's tokenizer comes from the header the loader reads, before any tensor is.
      model = await loadModel(options.ckptDir, {
        ...loadOptions,
        onGGUFMetadata: (metadata) => {
          opened = ggufTokenizer(metadata, options);
        },
      });
    } else {
      opened = await openTokenizer(options);
      // Llama 1/2's params.json leaves the vocabulary size and the RoPE base to the tokenizer's family.
      const family = opened.tokenizer ? tokenizerFamily(opened.tokenizer) : undefined;
      model = await loadModel(options.ckptDir, {
        ...loadOptions,
        ...(opened.tokenizer ? { vocabSize: opened.tokenizer.nWords } : {}),
        ...(family ? { family } : {}),
      });
    }
    if (opened === undefined) {
      model.dispose();
      throw new GenerationError(`Llama.build: ${options.ckptDir}: internal: the GGUF's metadata was not seen`);
    }
    try {
      const seed = options.seed !== undefined ? { seed: options.seed } : {};
      if (opened.tokenizer === undefined) {
        return new Llama(model, idTokenizer(model.args.vocabSize, options.stopTokens, opened.reason), seed);
      }
      return new Llama(model, opened.tokenizer, {
        ...seed,
        ...(opened.addBos !== undefined ? { addBos: opened.addBos } : {}),
        ...(opened.addEos !== undefined ? { addEos: opened.addEos } : {}),
        ...(opened.chatTemplate !== undefined ? { chatTemplate: opened.chatTemplate } : {}),
      });
    } catch (error) {
      model.dispose();
      throw error;
    }
  }

  /** Why this model cannot chat (undefined when it can): its tokenizer, or a chat template llama-ts does not have. */
  get chatUnavailable(): { because: 'tokenizer' | 'template'; message: string } | undefined {
    return 'unavailable' in this.#chat ? { because: this.#chat.because, message: this.#chat.unavailable } : undefined;
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
      return this.tokenizer.encode(p, { bos: this.#addBos, eos: this.#addEos });
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
        ? this.tokenizer.encode(prompt, { bos: this.#addBos, eos: this.#addEos })
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
    if ('unavailable' in this.#chat) {
      if (this.#chat.because === 'template') throw new GenerationError(`${what}: ${this.#chat.unavailable}`);
      throw new GenerationError(
        `${what} needs a Llama 3 or Llama 2 tokenizer (a chat format); this model has ${this.hasTokenizer ? 'a character tokenizer' : 'no tokenizer'}`,
      );
    }
    return this.#chat.format;
  }

  #tokenDetails(ids: number[], logprobs: number[] | undefined) {
    if (!logprobs) return {};
    return { tokens: ids.map((id) => this.tokenizer.decode([id])), tokenIds: ids, logprobs };
  }
}

import {
  type Backend,
  type BackendChoice,
  type GGUFMetadata,
  isGGUFFile,
  type LlamaFamily,
  type LoadModelOptions,
  type LoadProgress,
  loadModel,
  type Transformer,
  type WeightStorage,
} from '@llama-ts/model';
import { type Dialog, type DialogFormat, type TextTokenizer, tokenizerFamily } from '@llama-ts/tokenizer/node';
import { BatchEngine, type BatchEngineOptions, type BatchLanguageModel } from './batch/engine.js';
import { ChatSession, type ChatSessionOptions } from './chat-session.js';
import { type ChatAvailability, chatAvailability } from './chat-template.js';
import { GenerationError } from './errors.js';
import { type GenerateOptions, type GenerateResult, generate, type LoopContext } from './generate.js';
import { isIdTokenizer } from './id-tokenizer.js';
import type { LanguageModel } from './model.js';
import {
  type NoTokenizer,
  type OpenedTokenizer,
  openGGUFTokenizer,
  openTokenizer,
  type TokenizerSource,
  textSideOf,
} from './open-tokenizer.js';
import { EncoderUnavailableError, INLINE_ENCODE_LIMIT, PromptEncoder, promptLength } from './prompt-encoder.js';
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

export interface LlamaOptions {
  seed?: number;
  /** Prepend the begin-of-text id to text prompts (default true; a GGUF's add_bos_token). */
  addBos?: boolean;
  /** Append the end-of-text id to text prompts (default false; a GGUF's add_eos_token). */
  addEos?: boolean;
  /** The model's chat template (a GGUF's tokenizer.chat_template), which picks the chat format. */
  chatTemplate?: string;
  /**
   * Where the tokenizer came from (Llama.build sets it): lets `encodePrompt` encode long prompts on
   * a worker thread that opens the same tokenizer. Without it every prompt is encoded inline.
   */
  tokenizerSource?: TokenizerSource;
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
  readonly #encoder: PromptEncoder | undefined;
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
    this.#encoder = options.tokenizerSource ? new PromptEncoder(options.tokenizerSource) : undefined;
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
    const isGGUF = await isGGUFFile(options.ckptDir);
    if (options.tokenizerPath === undefined && isGGUF) {
      // The GGUF's tokenizer comes from the header the loader reads, before any tensor is.
      model = await loadModel(options.ckptDir, {
        ...loadOptions,
        onGGUFMetadata: (metadata: GGUFMetadata) => {
          opened = openGGUFTokenizer(metadata, options);
        },
      });
    } else {
      opened = await openTokenizer(options, isGGUF);
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
      const side = textSideOf(opened, model.args.vocabSize, options.stopTokens);
      const tokenizerSource: TokenizerSource = {
        options: {
          ckptDir: options.ckptDir,
          ...(options.tokenizerPath !== undefined ? { tokenizerPath: options.tokenizerPath } : {}),
          ...(options.withoutTokenizer !== undefined ? { withoutTokenizer: options.withoutTokenizer } : {}),
          ...(options.stopTokens !== undefined ? { stopTokens: [...options.stopTokens] } : {}),
        },
        isGGUF,
        vocabSize: model.args.vocabSize,
      };
      return new Llama(model, side.tokenizer, {
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...side.options,
        tokenizerSource,
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

  /**
   * A continuous-batching engine over this model and tokenizer (text deltas, stop strings and the
   * tokenizer's stop tokens). It owns the model's cache slots while it runs: do not call generate,
   * stream or chat sessions at the same time.
   */
  batchEngine(options: Omit<BatchEngineOptions, 'model' | 'tokenizer' | 'stopTokens'> = {}): BatchEngine {
    const model = this.model as Partial<BatchLanguageModel>;
    if (typeof model.forwardBatch !== 'function') {
      throw new GenerationError('batchEngine: the model has no forwardBatch (a Transformer of @llama-ts/model has)');
    }
    this.cacheOwner = undefined;
    return new BatchEngine({
      ...options,
      model: this.model as BatchLanguageModel,
      tokenizer: this.tokenizer,
      stopTokens: this.tokenizer.stopTokens,
    });
  }

  /**
   * The token ids `stream` would run for a text prompt (with BOS as this model adds it) or a dialog
   * (in its chat format), without blocking the event loop on a long prompt: past a few thousand
   * characters a model from Llama.build encodes it on a worker thread (tokenising 100k characters
   * of CJK text takes seconds). Errors are the same TokenizerError / GenerationError as stream's; a
   * worker that cannot run (no memory for a second tokenizer) leaves the encoding to this thread.
   */
  async encodePrompt(prompt: string | Dialog): Promise<number[]> {
    if (typeof prompt !== 'string') this.#requireChatFormat('stream');
    if (this.#encoder && promptLength(prompt) > INLINE_ENCODE_LIMIT) {
      try {
        return await this.#encoder.encode(prompt);
      } catch (error) {
        // A worker that cannot run is no reason to fail the prompt: encode it here instead.
        if (!(error instanceof EncoderUnavailableError)) throw error;
      }
    }
    return typeof prompt === 'string'
      ? this.tokenizer.encode(prompt, { bos: this.#addBos, eos: this.#addEos })
      : this.#requireChatFormat('stream').encodeDialogPrompt(prompt);
  }

  /** Frees the model (and its backend, when Llama.build created it) and stops the prompt encoder. */
  dispose(): void {
    this.#encoder?.dispose();
    this.model.dispose?.();
  }

  /** @internal The pieces the generation loop needs. */
  loopContext(): LoopContext {
    return { model: this.model, rng: this.#rng, stopTokens: this.tokenizer.stopTokens, bosId: this.tokenizer.bosId };
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

export {
  BatchEngine,
  type BatchEngineOptions,
  type BatchEngineStats,
  type BatchLanguageModel,
  type BatchRequest,
  type BatchStream,
} from './batch/engine.js';
export { ChatSession, type ChatSessionOptions } from './chat-session.js';
export { type ChatTemplateKind, recogniseChatTemplate } from './chat-template.js';
export type { ContextShiftOptions } from './context-shift.js';
export { GenerationError, QueueFullError } from './errors.js';
export type { GenerateOptions, GenerateResult } from './generate.js';
export {
  type GGUFTokenizer,
  tokenizerFromGGUF,
  tokenizerFromGGUFMetadata,
  UnsupportedVocabularyError,
} from './gguf-tokenizer.js';
export { idTokenizer } from './id-tokenizer.js';
export {
  type BuildOptions,
  type ChatCompletion,
  type CompletionOptions,
  Llama,
  type LlamaOptions,
  type TextCompletion,
} from './llama.js';
export {
  type LogitsContext,
  type LogitsProcessor,
  minP,
  occurrencePenalty,
  repetitionPenalty,
  temperature,
  topK,
} from './logits-processors.js';
export type { LanguageModel } from './model.js';
export type { TokenizerSource } from './open-tokenizer.js';
export { argmaxOf, softmaxOf, type TokenLogprob, topLogprobsOf } from './probabilities.js';
export { createSampler, type Sampler } from './sampler.js';
export type { SamplingOptions } from './sampling-options.js';
export { createSamplingRng, type SamplingRng } from './sampling-rng.js';
export type { FinishReason, StreamDelta, StreamOptions, StreamSummary } from './stream.js';
export { sampleTopP } from './top-p.js';
export type { Usage } from './usage.js';

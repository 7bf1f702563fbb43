export { ChatSession, type ChatSessionOptions } from './chat-session.js';
export { GenerationError } from './errors.js';
export {
  type GenerateOptions,
  type GenerateResult,
  type GenerationStep,
  generate,
  generationLoop,
} from './generate.js';
export { idTokenizer } from './id-tokenizer.js';
export { type BuildOptions, type ChatCompletion, type CompletionOptions, Llama, type TextCompletion } from './llama.js';
export type { LanguageModel } from './model.js';
export { createRng, type Rng } from './rng.js';
export * from './sampling.js';
export {
  type FinishReason,
  StopStringFilter,
  type StreamDelta,
  type StreamOptions,
  type StreamSummary,
} from './stream.js';
export type { Usage } from './usage.js';

import type { StreamOptions } from '@llama-ts/generation';
import { type Dialog, ROLES, type Role } from '@llama-ts/tokenizer/node';
import { HttpError } from './http.js';

/** What a completion or chat request asks for, checked. */
export interface GenerationRequest {
  stream: boolean;
  /** Sampling, length and stop options for each choice (no signal: the server adds one). */
  options: StreamOptions;
  /** Choices per prompt (OpenAI's n). */
  n: number;
  /** Choice i is sampled from a stream seeded with seed + i, so a seeded request repeats. */
  seed?: number;
  /** Send a final usage chunk (OpenAI's stream_options.include_usage). */
  includeUsage: boolean;
  /** Report log-probs with this many alternatives per token (0: the token's own only); none when undefined. */
  logprobs?: number;
}

/** A prompt as text, or as token ids (OpenAI allows both on /v1/completions). */
export type CompletionPrompt = string | readonly number[];

export interface CompletionRequest extends GenerationRequest {
  /** One or more prompts; each gets n choices, indexed prompt × n + choice as OpenAI does. */
  prompts: CompletionPrompt[];
}

export interface ChatRequest extends GenerationRequest {
  messages: Dialog;
}

/** OpenAI's default max_tokens for /v1/completions. */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;
/** Bounds on work one request may ask for. */
export const MAX_CHOICES = 16;
export const MAX_PROMPTS = 16;
export const MAX_TOP_LOGPROBS = 20;

function bad(message: string): HttpError {
  return new HttpError(400, message);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `${typeof value} ${String(value)}`;
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad(`the request body must be a JSON object, got ${describe(body)}`);
  }
  return body as Record<string, unknown>;
}

/** An optional field: undefined and null read as absent. */
function optional<T>(
  body: Record<string, unknown>,
  key: string,
  check: (value: unknown) => value is T,
  expected: string,
) {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!check(value)) throw bad(`${key} must be ${expected}, got ${describe(value)}`);
  return value;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInteger = (v: unknown): v is number => Number.isSafeInteger(v);
const isNonNegativeInteger = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isString = (v: unknown): v is string => typeof v === 'string';
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStop = (v: unknown): v is string | string[] =>
  (typeof v === 'string' && v.length > 0) ||
  (Array.isArray(v) && v.length <= 16 && v.every((s) => typeof s === 'string' && s.length > 0));
const inRange =
  (low: number, high: number) =>
  (v: unknown): v is number =>
    isNumber(v) && v >= low && v <= high;
const integerIn =
  (low: number, high: number) =>
  (v: unknown): v is number =>
    isInteger(v) && v >= low && v <= high;

/** Fields OpenAI defines that this server does not implement: refused by name, never silently ignored. */
const UNSUPPORTED = ['echo', 'suffix', 'tools', 'tool_choice', 'functions', 'function_call', 'logit_bias', 'best_of'];

function responseFormat(body: Record<string, unknown>): void {
  const format = body.response_format;
  if (format === undefined || format === null) return;
  if (isObject(format) && format.type === 'text') return;
  const type = isObject(format) ? JSON.stringify(format.type) : describe(format);
  throw bad(`response_format ${type} is not supported; this server only produces plain text ({ "type": "text" })`);
}

function generationFields(body: Record<string, unknown>, defaultMaxTokens: number | undefined): GenerationRequest {
  optional(body, 'model', isString, 'a string');
  optional(body, 'user', isString, 'a string'); // accepted and ignored, as a self-hosted server has no users
  for (const key of UNSUPPORTED) {
    const value = body[key];
    if (value !== undefined && value !== null && value !== false) throw bad(`${key} is not supported by this server`);
  }
  responseFormat(body);
  const n = optional(body, 'n', integerIn(1, MAX_CHOICES), `an integer from 1 to ${MAX_CHOICES}`) ?? 1;
  const maxTokens =
    optional(body, 'max_tokens', isNonNegativeInteger, 'a non-negative integer') ??
    optional(body, 'max_completion_tokens', isNonNegativeInteger, 'a non-negative integer') ??
    defaultMaxTokens;
  const temperature = optional(body, 'temperature', isNumber, 'a number');
  const topP = optional(body, 'top_p', isNumber, 'a number');
  const topK = optional(body, 'top_k', isInteger, 'an integer');
  const minP = optional(body, 'min_p', isNumber, 'a number');
  const repetitionPenalty =
    optional(body, 'repeat_penalty', isNumber, 'a number') ??
    optional(body, 'repetition_penalty', isNumber, 'a number');
  const presencePenalty = optional(body, 'presence_penalty', inRange(-2, 2), 'a number from -2 to 2');
  const frequencyPenalty = optional(body, 'frequency_penalty', inRange(-2, 2), 'a number from -2 to 2');
  const stop = optional(body, 'stop', isStop, 'a non-empty string or an array of at most 16 non-empty strings');
  const seed = optional(body, 'seed', isInteger, 'an integer');
  const stream = optional(body, 'stream', isBoolean, 'a boolean') ?? false;
  const streamOptions = optional(body, 'stream_options', isObject, 'an object');
  const includeUsage = streamOptions?.include_usage === true;
  const options: StreamOptions = {};
  if (maxTokens !== undefined) options.maxGenLen = maxTokens;
  if (temperature !== undefined) options.temperature = temperature;
  if (topP !== undefined) options.topP = topP;
  if (topK !== undefined) options.topK = topK;
  if (minP !== undefined) options.minP = minP;
  if (repetitionPenalty !== undefined) options.repetitionPenalty = repetitionPenalty;
  if (presencePenalty !== undefined) options.presencePenalty = presencePenalty;
  if (frequencyPenalty !== undefined) options.frequencyPenalty = frequencyPenalty;
  if (stop !== undefined) options.stop = typeof stop === 'string' ? [stop] : stop;
  return { stream, options, n, includeUsage, ...(seed !== undefined ? { seed } : {}) };
}

/** Asks the generation for log-probs with `top` alternatives. */
function withLogprobs<T extends GenerationRequest>(request: T, top: number | undefined): T {
  if (top === undefined) return request;
  return { ...request, logprobs: top, options: { ...request.options, logprobs: true, topLogprobs: top } };
}

function tokenIds(value: readonly unknown[], where: string, vocabSize: number): number[] {
  if (value.length === 0) throw bad(`${where} is empty; a prompt needs at least one token`);
  value.forEach((id, i) => {
    if (!(Number.isSafeInteger(id) && (id as number) >= 0 && (id as number) < vocabSize)) {
      throw bad(`${where}[${i}] is ${describe(id)}; expected a token id, an integer from 0 to ${vocabSize - 1}`);
    }
  });
  return value as number[];
}

/**
 * OpenAI's prompt forms: a string, an array of strings, an array of token ids, or an array of such
 * arrays. Token ids are checked against the model's vocabulary.
 */
function completionPrompts(prompt: unknown, vocabSize: number): CompletionPrompt[] {
  const expected =
    'prompt must be a string, an array of strings, an array of token ids (integers) or an array of such arrays';
  if (prompt === undefined || prompt === null) throw bad('prompt is required');
  if (typeof prompt === 'string') return [prompt];
  if (!Array.isArray(prompt) || prompt.length === 0) throw bad(`${expected}, got ${describe(prompt)}`);
  if (prompt.every((p) => typeof p === 'number')) return [tokenIds(prompt, 'prompt', vocabSize)];
  if (prompt.length > MAX_PROMPTS) throw bad(`prompt holds ${prompt.length} prompts; at most ${MAX_PROMPTS}`);
  return prompt.map((p, i) => {
    if (typeof p === 'string') return p;
    if (Array.isArray(p)) return tokenIds(p, `prompt[${i}]`, vocabSize);
    throw bad(`${expected}; prompt[${i}] is ${describe(p)}`);
  });
}

export function parseCompletionRequest(body: unknown, vocabSize: number): CompletionRequest {
  const object = asObject(body);
  const prompts = completionPrompts(object.prompt, vocabSize);
  const request = { ...generationFields(object, COMPLETIONS_DEFAULT_MAX_TOKENS), prompts };
  if (object.top_logprobs !== undefined && object.top_logprobs !== null) {
    throw bad('top_logprobs is a chat completions field; /v1/completions takes logprobs: an integer 0-20');
  }
  // On /v1/completions logprobs is the number of alternatives (OpenAI: 0-5; llama.cpp allows more).
  const logprobs = optional(
    object,
    'logprobs',
    integerIn(0, MAX_TOP_LOGPROBS),
    `an integer from 0 to ${MAX_TOP_LOGPROBS} (alternatives per token)`,
  );
  return withLogprobs(request, logprobs);
}

/** A message's content: a string, or OpenAI's array of `{ type: 'text', text }` parts. */
function messageContent(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
          throw bad(`${where}.content[${j}] must be { "type": "text", "text": string }`);
        }
        return part.text;
      })
      .join('');
  }
  throw bad(`${where}.content must be a string, got ${describe(content)}`);
}

export function parseChatRequest(body: unknown): ChatRequest {
  const object = asObject(body);
  const messages = object.messages;
  if (messages === undefined) throw bad('messages is required');
  if (!Array.isArray(messages) || messages.length === 0) {
    throw bad(`messages must be a non-empty array, got ${describe(messages)}`);
  }
  const dialog: Dialog = messages.map((message, i) => {
    const where = `messages[${i}]`;
    if (!isObject(message)) throw bad(`${where} must be an object with role and content`);
    if (!ROLES.includes(message.role as Role)) {
      throw bad(`${where}.role is ${describe(message.role)}; expected one of ${ROLES.join(', ')}`);
    }
    return { role: message.role as Role, content: messageContent(message.content, where) };
  });
  const request = { ...generationFields(object, undefined), messages: dialog };
  // On chat, logprobs is a boolean and top_logprobs the number of alternatives (it needs logprobs).
  const logprobs = optional(object, 'logprobs', isBoolean, 'a boolean') ?? false;
  const top = optional(
    object,
    'top_logprobs',
    integerIn(0, MAX_TOP_LOGPROBS),
    `an integer from 0 to ${MAX_TOP_LOGPROBS}`,
  );
  if (top !== undefined && !logprobs) throw bad('top_logprobs needs logprobs: true');
  return withLogprobs(request, logprobs ? (top ?? 0) : undefined);
}

import type { StreamOptions } from '@llama-ts/generation';
import { type Dialog, ROLES, type Role } from '@llama-ts/tokenizer/node';
import { HttpError } from './http.js';

/** What a completion or chat request asks for, checked. */
export interface GenerationRequest {
  stream: boolean;
  options: StreamOptions;
  /** Reseeds the sampler before this request. */
  seed?: number;
  /** Send a final usage chunk (OpenAI's stream_options.include_usage). */
  includeUsage: boolean;
}

export interface CompletionRequest extends GenerationRequest {
  prompt: string;
}

export interface ChatRequest extends GenerationRequest {
  messages: Dialog;
}

/** OpenAI's default max_tokens for /v1/completions. */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

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

function generationFields(body: Record<string, unknown>, defaultMaxTokens: number | undefined): GenerationRequest {
  optional(body, 'model', isString, 'a string');
  const n = optional(body, 'n', isInteger, 'an integer');
  if (n !== undefined && n !== 1) throw bad('n must be 1 (one choice per request)');
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
  const stop = optional(body, 'stop', isStop, 'a non-empty string or an array of at most 16 non-empty strings');
  const seed = optional(body, 'seed', isInteger, 'an integer');
  const stream = optional(body, 'stream', isBoolean, 'a boolean') ?? false;
  const streamOptions = optional(body, 'stream_options', isObject, 'an object');
  const includeUsage = streamOptions?.include_usage === true;
  for (const key of ['logprobs', 'top_logprobs', 'echo', 'suffix', 'tools', 'functions', 'logit_bias']) {
    const value = body[key];
    if (value !== undefined && value !== null && value !== false) throw bad(`${key} is not supported by this server`);
  }
  const options: StreamOptions = {};
  if (maxTokens !== undefined) options.maxGenLen = maxTokens;
  if (temperature !== undefined) options.temperature = temperature;
  if (topP !== undefined) options.topP = topP;
  if (topK !== undefined) options.topK = topK;
  if (minP !== undefined) options.minP = minP;
  if (repetitionPenalty !== undefined) options.repetitionPenalty = repetitionPenalty;
  if (stop !== undefined) options.stop = typeof stop === 'string' ? [stop] : stop;
  return { stream, options, includeUsage, ...(seed !== undefined ? { seed } : {}) };
}

export function parseCompletionRequest(body: unknown): CompletionRequest {
  const object = asObject(body);
  let prompt = object.prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') prompt = prompt[0];
  if (typeof prompt !== 'string') {
    throw bad(
      prompt === undefined
        ? 'prompt is required'
        : `prompt must be a string (or an array of one string), got ${describe(prompt)}`,
    );
  }
  return { ...generationFields(object, COMPLETIONS_DEFAULT_MAX_TOKENS), prompt };
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
  return { ...generationFields(object, undefined), messages: dialog };
}

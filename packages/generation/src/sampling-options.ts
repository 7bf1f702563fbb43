import { GenerationError } from './errors.js';

// What a sampler may be asked for, checked: each check throws a GenerationError naming the option and its
// range. The processors and top-p sampling check their own arguments with the same functions.

export interface SamplingOptions {
  /** Softmax temperature, ≥ 0; 0 picks the argmax (greedy). Default 0.6, as the reference. */
  temperature?: number;
  /** Nucleus mass, 0 < topP ≤ 1; 1 keeps every token. Default 0.9, as the reference. */
  topP?: number;
  /** Keep only the k highest logits (integer ≥ 1). Off by default. */
  topK?: number;
  /** Remove tokens whose probability is below minP × the top probability (0 ≤ minP ≤ 1). Off by default. */
  minP?: number;
  /** CTRL / llama.cpp repetition penalty (> 0; 1 is off). Off by default. */
  repetitionPenalty?: number;
  /** How many of the latest history tokens the repetition, presence and frequency penalties look at (integer ≥ 0). Default 64. */
  repetitionLastN?: number;
  /** OpenAI's presence penalty, in [-2, 2]: subtracted once from the logit of every token that occurred. Off (0) by default. */
  presencePenalty?: number;
  /** OpenAI's frequency penalty, in [-2, 2]: subtracted from a token's logit once per occurrence. Off (0) by default. */
  frequencyPenalty?: number;
}

/** SamplingOptions after validation, with defaults filled in; `undefined` means that step is off. */
export interface ResolvedSamplingOptions {
  temperature: number;
  topP: number;
  topK: number | undefined;
  minP: number | undefined;
  repetitionPenalty: number | undefined;
  repetitionLastN: number;
  presencePenalty: number;
  frequencyPenalty: number;
}

export const DEFAULT_TEMPERATURE = 0.6;
export const DEFAULT_TOP_P = 0.9;
export const DEFAULT_REPETITION_LAST_N = 64;

function fail(name: string, expected: string, value: unknown): never {
  throw new GenerationError(`${name} must be ${expected}, got ${String(value)}`);
}

export function checkTemperature(name: string, value: number, allowZero: boolean): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (allowZero ? value >= 0 : value > 0);
  return ok ? value : fail(name, allowZero ? 'a finite number ≥ 0 (0 = greedy)' : 'a finite number > 0', value);
}

export function checkTopP(value: number): number {
  return typeof value === 'number' && value > 0 && value <= 1 ? value : fail('topP', 'a number in (0, 1]', value);
}

export function checkTopK(value: number): number {
  return Number.isInteger(value) && value >= 1 ? value : fail('topK', 'an integer ≥ 1', value);
}

export function checkMinP(value: number): number {
  return typeof value === 'number' && value >= 0 && value <= 1 ? value : fail('minP', 'a number in [0, 1]', value);
}

export function checkRepetitionPenalty(value: number): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value > 0;
  return ok ? value : fail('repetitionPenalty', 'a finite number > 0 (1 = off)', value);
}

export function checkRepetitionLastN(value: number): number {
  return Number.isInteger(value) && value >= 0 ? value : fail('repetitionLastN', 'an integer ≥ 0', value);
}

/** OpenAI's range for presence_penalty and frequency_penalty. */
export function checkOccurrencePenalty(name: string, value: number): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= -2 && value <= 2;
  return ok ? value : fail(name, 'a number in [-2, 2] (0 = off)', value);
}

/** Validates options (GenerationError naming the option and its range) and fills in the defaults. */
export function resolveSamplingOptions(options: SamplingOptions = {}): ResolvedSamplingOptions {
  return {
    temperature: checkTemperature('temperature', options.temperature ?? DEFAULT_TEMPERATURE, true),
    topP: checkTopP(options.topP ?? DEFAULT_TOP_P),
    topK: options.topK === undefined ? undefined : checkTopK(options.topK),
    minP: options.minP === undefined ? undefined : checkMinP(options.minP),
    repetitionPenalty:
      options.repetitionPenalty === undefined ? undefined : checkRepetitionPenalty(options.repetitionPenalty),
    repetitionLastN: checkRepetitionLastN(options.repetitionLastN ?? DEFAULT_REPETITION_LAST_N),
    presencePenalty: checkOccurrencePenalty('presencePenalty', options.presencePenalty ?? 0),
    frequencyPenalty: checkOccurrencePenalty('frequencyPenalty', options.frequencyPenalty ?? 0),
  };
}

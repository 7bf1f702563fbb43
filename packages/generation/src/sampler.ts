import {
  type LogitsContext,
  type LogitsProcessor,
  minP,
  occurrencePenalty,
  repetitionPenalty,
  topK,
} from './logits-processors.js';
import { argmaxOf, softmaxOf } from './probabilities.js';
import { type ResolvedSamplingOptions, resolveSamplingOptions, type SamplingOptions } from './sampling-options.js';
import type { SamplingRng } from './sampling-rng.js';
import { sampleTopP } from './top-p.js';

// Host-side sampling: logits in, token id out. The default path is the reference's
// (llama/generation.py, spec §3.2–3.3):
//   temperature > 0 ? sample_top_p(softmax(logits / temperature), top_p) : argmax(logits)
// Optional llama.cpp-style logits processors (repetition penalty, top-k, min-p) run before it.

export interface Sampler {
  /** Picks the next token. Never changes `logits`. Greedy picks draw nothing from the rng, others draw once. */
  sample(logits: Float32Array, history: readonly number[]): number;
}

/**
 * The processors `options` turn on, in chain order (llama.cpp's): repetition penalty → presence and
 * frequency penalties → top-k → min-p.
 */
export function processorsFor(options: ResolvedSamplingOptions): LogitsProcessor[] {
  const chain: LogitsProcessor[] = [];
  if (options.repetitionPenalty !== undefined && options.repetitionPenalty !== 1 && options.repetitionLastN > 0) {
    chain.push(repetitionPenalty(options.repetitionPenalty, options.repetitionLastN));
  }
  if ((options.presencePenalty !== 0 || options.frequencyPenalty !== 0) && options.repetitionLastN > 0) {
    chain.push(occurrencePenalty(options.presencePenalty, options.frequencyPenalty, options.repetitionLastN));
  }
  if (options.topK !== undefined) chain.push(topK(options.topK));
  if (options.minP !== undefined && options.minP > 0) chain.push(minP(options.minP));
  return chain;
}

/** Runs the chain on a copy, so the caller's logits stay as they were. */
function applyProcessors(
  logits: Float32Array,
  chain: readonly LogitsProcessor[],
  history: readonly number[],
): Float32Array {
  const processed = logits.slice();
  const context: LogitsContext = { history };
  for (const processor of chain) processor(processed, context);
  return processed;
}

/**
 * A sampler: repetition penalty → presence/frequency penalties → top-k → min-p → (temperature 0 ? argmax : top-p over
 * softmax(logits / temperature)). With only temperature and topP set it is exactly the reference's step.
 * Options are validated here (GenerationError naming the option and its range).
 */
export function createSampler(options: SamplingOptions, rng: SamplingRng): Sampler {
  const resolved = resolveSamplingOptions(options);
  const chain = processorsFor(resolved);
  return {
    sample(logits: Float32Array, history: readonly number[]): number {
      const processed = chain.length === 0 ? logits : applyProcessors(logits, chain, history);
      if (resolved.temperature === 0) return argmaxOf(processed);
      return sampleTopP(softmaxOf(processed, resolved.temperature), resolved.topP, rng);
    },
  };
}

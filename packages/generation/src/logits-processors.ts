import { GenerationError } from './errors.js';
import { maxIgnoringNaN } from './probabilities.js';
import {
  checkMinP,
  checkOccurrencePenalty,
  checkRepetitionLastN,
  checkRepetitionPenalty,
  checkTemperature,
  checkTopK,
  DEFAULT_REPETITION_LAST_N,
} from './sampling-options.js';

// Optional llama.cpp-style logits processors (repetition penalty, top-k, min-p), run before the
// reference's sampling step.

/** What a logits processor may read besides the logits. */
export interface LogitsContext {
  /** The sequence so far (prompt and generated tokens), oldest first. */
  readonly history: readonly number[];
}

/** One step of a sampler chain: it edits `logits` in place, and -Infinity removes a token. */
export type LogitsProcessor = (logits: Float32Array, context: LogitsContext) => void;

/**
 * CTRL / llama.cpp repetition penalty: each distinct token among the last `lastN` of the history gets
 * logit / penalty when its logit is > 0 and logit × penalty otherwise (so penalty > 1 always discourages it).
 */
export function repetitionPenalty(penalty: number, lastN = DEFAULT_REPETITION_LAST_N): LogitsProcessor {
  checkRepetitionPenalty(penalty);
  checkRepetitionLastN(lastN);
  return (logits, { history }) => {
    const seen = new Set<number>();
    for (let i = Math.max(0, history.length - lastN); i < history.length; i++) {
      const token = history[i] as number;
      if (seen.has(token)) continue;
      seen.add(token);
      if (!(Number.isInteger(token) && token >= 0 && token < logits.length)) {
        throw new GenerationError(`history token ${token} is outside the vocabulary [0, ${logits.length})`);
      }
      const logit = logits[token] as number;
      logits[token] = logit > 0 ? logit / penalty : logit * penalty;
    }
  };
}

/**
 * OpenAI's presence and frequency penalties, windowed as llama.cpp applies them (its penalty_last_n): a
 * token seen c > 0 times among the last `lastN` of the history gets logit − c × frequency − presence.
 * Positive values discourage repeats, negative ones encourage them.
 */
export function occurrencePenalty(
  presence: number,
  frequency: number,
  lastN = DEFAULT_REPETITION_LAST_N,
): LogitsProcessor {
  checkOccurrencePenalty('presencePenalty', presence);
  checkOccurrencePenalty('frequencyPenalty', frequency);
  checkRepetitionLastN(lastN);
  return (logits, { history }) => {
    const counts = new Map<number, number>();
    for (let i = Math.max(0, history.length - lastN); i < history.length; i++) {
      const token = history[i] as number;
      if (!(Number.isInteger(token) && token >= 0 && token < logits.length)) {
        throw new GenerationError(`history token ${token} is outside the vocabulary [0, ${logits.length})`);
      }
      counts.set(token, (counts.get(token) ?? 0) + 1);
    }
    for (const [token, count] of counts) {
      logits[token] = (logits[token] as number) - count * frequency - presence;
    }
  };
}

/** Orders NaN below every number, so a NaN logit is never preferred. */
function rankOf(logit: number): number {
  return Number.isNaN(logit) ? Number.NEGATIVE_INFINITY : logit;
}

/**
 * Keeps exactly the k highest logits (all of them when there are ≤ k) and sets the rest to -Infinity. On a
 * tie at the boundary the lower token ids are kept, the first-index rule of argmax. NaN ranks lowest.
 */
export function topK(k: number): LogitsProcessor {
  checkTopK(k);
  return (logits) => {
    if (k >= logits.length) return;
    const { threshold, tiesKept } = kthLargest(logits, k);
    let tiesSeen = 0;
    for (let i = 0; i < logits.length; i++) {
      const rank = rankOf(logits[i] as number);
      if (rank > threshold || (rank === threshold && tiesSeen++ < tiesKept)) continue;
      logits[i] = Number.NEGATIVE_INFINITY;
    }
  };
}

/**
 * The k-th largest rank, and how many tokens with exactly that rank the top k hold (the first ones by id).
 * A size-k min-heap: O(V log k), and usually one comparison per token for a small k.
 */
function kthLargest(logits: Float32Array, k: number): { threshold: number; tiesKept: number } {
  const heap = new Float64Array(k); // Ranks only: among equal ranks the earliest ids win, counted later.
  let size = 0;
  for (let i = 0; i < logits.length; i++) {
    const rank = rankOf(logits[i] as number);
    if (size < k) {
      siftUp(heap, size++, rank);
    } else if (rank > (heap[0] as number)) {
      siftDown(heap, size, rank);
    }
  }
  const threshold = heap[0] as number;
  let tiesKept = 0;
  for (let j = 0; j < size; j++) if (heap[j] === threshold) tiesKept++;
  return { threshold, tiesKept };
}

function siftUp(heap: Float64Array, position: number, value: number): void {
  let child = position;
  while (child > 0) {
    const parent = (child - 1) >> 1;
    if ((heap[parent] as number) <= value) break;
    heap[child] = heap[parent] as number;
    child = parent;
  }
  heap[child] = value;
}

/** Replaces the root (the minimum) with `value` and restores the heap. */
function siftDown(heap: Float64Array, size: number, value: number): void {
  let parent = 0;
  for (;;) {
    let child = 2 * parent + 1;
    if (child >= size) break;
    if (child + 1 < size && (heap[child + 1] as number) < (heap[child] as number)) child++;
    if ((heap[child] as number) >= value) break;
    heap[parent] = heap[child] as number;
    parent = child;
  }
  heap[parent] = value;
}

/**
 * Removes tokens whose probability is below p × the top probability. In logit space (temperature 1, as it
 * runs before the temperature): p_i / p_max = exp(logit_i − maxLogit) < p  ⇔  logit_i < maxLogit + ln p.
 * p = 0 removes nothing; p = 1 keeps only the tokens tied for the top. Otherwise NaN logits are removed too.
 */
export function minP(p: number): LogitsProcessor {
  checkMinP(p);
  return (logits) => {
    if (p === 0) return;
    const threshold = maxIgnoringNaN(logits) + Math.log(p);
    for (let i = 0; i < logits.length; i++) {
      const logit = logits[i] as number;
      if (!(logit >= threshold)) logits[i] = Number.NEGATIVE_INFINITY;
    }
  };
}

/** Divides the logits by t (> 0), for hand-built chains; createSampler folds temperature into its softmax. */
export function temperature(t: number): LogitsProcessor {
  checkTemperature('temperature', t, false);
  return (logits) => {
    for (let i = 0; i < logits.length; i++) logits[i] = (logits[i] as number) / t;
  };
}

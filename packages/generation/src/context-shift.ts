import { GenerationError } from './errors.js';

// Generation past the context (llama.cpp's "context shift"): when the KV cache is full, keep the
// first `keep` tokens (bos, a system prompt) and the most recent half of the rest, and go on.
//
// How the kept window gets into the cache: it is run through the model again (re-prefilled), from
// cache position `keep` on; the first `keep` positions never move, so their keys and values stay.
// The other way, llama.cpp's, rotates the cached keys of the kept tokens back by the number of
// positions dropped. We re-prefill because:
// - it is exact: the cache then holds what a fresh prefill of the kept tokens gives, so the next
//   logits equal a fresh prompt's. Rotated keys are not: below the first layer, a kept token's key
//   and value were computed while it attended to the dropped tokens, and no rotation undoes that;
// - it needs no new kernel on three backends (a RoPE delta over a strided cache slice);
// - it costs one prefill of half the context every half-context of tokens, i.e. about one token
//   of prefill (a batched matmul, several times cheaper per token than a decode step) per token
//   generated.

/** The `contextShift` generation option: true, or what to keep. */
export interface ContextShiftOptions {
  /**
   * Tokens at the start of each sequence that a shift never drops (bos, a system prompt), an
   * integer from 0 to maxSeqLen - 2. Default: 1 when every prompt starts with the tokenizer's bos
   * token, else 0. A chat session's default is its fixed prefix (bos and the system message).
   */
  keep?: number;
}

/**
 * Which logical positions of a sequence the KV cache holds: [0, keep) in place, and from
 * keep + dropped on, each at its logical position - dropped.
 */
export interface CacheWindow {
  readonly keep: number;
  readonly dropped: number;
}

/** The forward pass one step needs, as logical positions of each row, written at cache position startPos. */
export interface StepPlan {
  positions: number[];
  startPos: number;
  /** The cache's window after this pass. */
  window: CacheWindow;
  /** Whether this pass drops tokens (a context shift). */
  shifted: boolean;
}

/** The `keep` to use, or undefined when context shift is off; throws on a bad option. */
export function resolveContextShift(
  option: boolean | ContextShiftOptions | undefined,
  prompts: readonly (readonly number[])[],
  bosId: number | undefined,
  maxSeqLen: number,
): number | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null)) {
    throw new GenerationError(`contextShift must be true, false or { keep }, got ${String(option)}`);
  }
  const keep = option === true ? undefined : option.keep;
  if (keep === undefined) return bosId !== undefined && prompts.every((p) => p[0] === bosId) ? 1 : 0;
  if (!Number.isInteger(keep) || keep < 0 || keep > maxSeqLen - 2) {
    throw new GenerationError(
      `contextShift.keep must be an integer from 0 to maxSeqLen - 2 (${maxSeqLen - 2}), got ${String(keep)}`,
    );
  }
  return keep;
}

/** How many of the most recent tokens a shift keeps: half of what `keep` leaves of the context (rounded up). */
export function recentAfterShift(keep: number, maxSeqLen: number): number {
  return Math.ceil((maxSeqLen - keep) / 2);
}

/**
 * The step that feeds logical positions [prevPos, curPos) to the model. Without `window` (context
 * shift off) or while they fit, that is those positions after the cached ones. When the last of them
 * would fall past the cache's end, the step shifts instead: it feeds the first `keep` tokens not yet
 * in the cache and the most recent tokens up to curPos, at position `keep`.
 */
export function planStep(
  window: CacheWindow | undefined,
  prevPos: number,
  curPos: number,
  maxSeqLen: number,
): StepPlan {
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  const current = window ?? { keep: 0, dropped: 0 };
  if (!window || curPos - window.dropped <= maxSeqLen) {
    return { positions: range(prevPos, curPos), startPos: prevPos - current.dropped, window: current, shifted: false };
  }
  const { keep } = window;
  // Positions below keep never move, so the ones computed before are still there.
  const inCache = window.dropped > 0 ? keep : Math.min(keep, prevPos);
  const recentFrom = curPos - recentAfterShift(keep, maxSeqLen);
  return {
    positions: [...range(inCache, keep), ...range(recentFrom, curPos)],
    startPos: inCache,
    window: { keep, dropped: recentFrom - keep },
    shifted: true,
  };
}

import { type CacheWindow, type ContextShiftOptions, planStep, resolveContextShift } from './context-shift.js';
import { GenerationError } from './errors.js';
import type { LanguageModel } from './model.js';
import { type TokenLogprob, topLogprobsOf } from './probabilities.js';
import { createSampler } from './sampler.js';
import type { SamplingOptions } from './sampling-options.js';
import type { SamplingRng } from './sampling-rng.js';
import { type Usage, UsageClock } from './usage.js';

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate after the longest prompt. Default: maxSeqLen - 1, as the reference. */
  maxGenLen?: number;
  /** Also return the log-probability of every returned token (from the untempered logits). */
  logprobs?: boolean;
  /**
   * Also report, for each generated token, the `topLogprobs` most likely tokens at its position with
   * their log-probs (untempered logits; OpenAI's top_logprobs). Implies `logprobs`. Default 0.
   */
  topLogprobs?: number;
  /** Return the prompt tokens too (their log-probs are teacher-forced; the first is 0). */
  echo?: boolean;
  /** Stops the generation between two tokens. */
  signal?: AbortSignal;
  /** Token ids that end a sequence, besides the tokenizer's own stop tokens. */
  stopTokens?: Iterable<number>;
  /**
   * Generation past the context (off by default, as the reference, which stops at maxSeqLen): when
   * the KV cache is full, keep the first `keep` tokens and the most recent half of the rest and go
   * on, so maxGenLen may exceed the context and a prompt may be longer than it (its first `keep` and
   * most recent tokens are kept). true keeps bos (see ContextShiftOptions).
   */
  contextShift?: boolean | ContextShiftOptions;
}

export interface GenerateResult {
  /** Per sequence: the generated ids (with the prompt when echo), cut at the first stop token. */
  tokens: number[][];
  /** Per sequence, aligned with `tokens`, when `logprobs` was asked for. */
  logprobs?: number[][];
  usage: Usage;
}

/** One step of the loop: the token chosen for each sequence at `position` (forced on prompt positions). */
export interface GenerationStep {
  position: number;
  /** Per sequence. */
  next: number[];
  /** Per sequence: true where `next` was generated, false where it was forced from the prompt. */
  generated: boolean[];
  /** Per sequence, when log-probs were asked for: the log-prob of `next` (untempered logits). */
  logprobs?: number[];
  /** Per sequence, when topLogprobs was asked for: the most likely tokens at this position (empty when forced). */
  topLogprobs?: TokenLogprob[][];
}

export interface LoopContext {
  model: LanguageModel;
  rng: SamplingRng;
  stopTokens: ReadonlySet<number>;
  /** Positions 0..cachedPrefix-1 of sequence 0 are already in the KV cache (chat sessions). */
  cachedPrefix?: number;
  /** Where the usage figures are recorded (a fresh clock by default). */
  clock?: UsageClock;
  /** The tokenizer's bos id: context shift keeps it by default when every prompt starts with it. */
  bosId?: number;
  /** Called after each context shift with what the cache now holds (chat sessions track it). */
  onContextShift?: (window: CacheWindow) => void;
}

interface LoopState {
  tokens: number[][];
  logprobs: Float32Array[] | undefined;
  totalLen: number;
  clock: UsageClock;
}

/**
 * Lets I/O callbacks run between two tokens: on the CPU backend a whole generation would otherwise
 * run in one chain of microtasks, and a closed socket or Ctrl-C would go unnoticed until the end.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}

/**
 * The request's problems (too many prompts, empty or too long ones), before any work is done.
 * With context shift a prompt may be longer than the context, unless its tokens are to be scored
 * (echo with logprobs): the shift drops some before the model sees them.
 */
export function checkPrompts(
  model: LanguageModel,
  prompts: readonly (readonly number[])[],
  maxGenLen: number,
  options: Pick<GenerateOptions, 'contextShift' | 'echo' | 'logprobs'> = {},
): void {
  const { maxBatchSize, maxSeqLen } = model.args;
  if (!Array.isArray(prompts) || prompts.length === 0)
    throw new GenerationError('generate: promptTokens must be a non-empty array of prompts');
  if (prompts.length > maxBatchSize) {
    throw new GenerationError(`generate: ${prompts.length} prompts exceed maxBatchSize ${maxBatchSize}`);
  }
  prompts.forEach((prompt, i) => {
    if (!Array.isArray(prompt) || prompt.length === 0)
      throw new GenerationError(`generate: prompt ${i} is empty; a prompt needs at least one token`);
    const shifts = options.contextShift !== undefined && options.contextShift !== false;
    if (prompt.length > maxSeqLen && (!shifts || (options.echo && options.logprobs))) {
      throw new GenerationError(
        `generate: prompt ${i} has ${prompt.length} tokens, longer than the context (maxSeqLen ${maxSeqLen})` +
          (shifts ? '; with echo and logprobs every prompt token is scored, so the prompt must fit' : ''),
      );
    }
  });
  if (!Number.isInteger(maxGenLen) || maxGenLen < 0) {
    throw new GenerationError(`generate: maxGenLen must be a non-negative integer, got ${maxGenLen}`);
  }
}

/** log_softmax(row)[target] in f32, 0 for a padding target (-1), as cross_entropy with ignore_index. */
export function tokenLogprob(row: Float32Array, target: number): number {
  if (target < 0) return 0;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) if ((row[i] as number) > max) max = row[i] as number;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp((row[i] as number) - max);
  return Math.fround((row[target] as number) - max - Math.log(sum));
}

/**
 * The reference's generation loop (llama/generation.py), one step at a time. Prompts are
 * left-aligned in a [batch, totalLen] grid padded with -1; the first forward pass covers the
 * shortest prompt, then one position per step, with prompt positions forced from the prompt.
 */
export async function* generationLoop(
  context: LoopContext,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions,
): AsyncGenerator<GenerationStep, LoopState> {
  const { model, rng } = context;
  const stopTokens = allStopTokens(context.stopTokens, options.stopTokens);
  const maxSeqLen = model.args.maxSeqLen;
  const maxGenLen = options.maxGenLen ?? maxSeqLen - 1;
  checkPrompts(model, prompts, maxGenLen, options);
  const keep = resolveContextShift(options.contextShift, prompts, context.bosId, maxSeqLen);
  const sampler = createSampler(options, rng);
  const batch = prompts.length;
  const lengths = prompts.map((p) => p.length);
  const minPromptLen = Math.min(...lengths);
  const maxPromptLen = Math.max(...lengths);
  // The reference stops at the context; a context shift makes room instead.
  const totalLen = keep === undefined ? Math.min(maxSeqLen, maxGenLen + maxPromptLen) : maxGenLen + maxPromptLen;
  const tokens = prompts.map((p) => [...p, ...new Array<number>(totalLen - p.length).fill(-1)]);
  const isPrompt = (b: number, position: number) => position < (lengths[b] as number);
  const topLogprobs = options.topLogprobs ?? 0;
  if (!Number.isInteger(topLogprobs) || topLogprobs < 0) {
    throw new GenerationError(`generate: topLogprobs must be an integer ≥ 0, got ${topLogprobs}`);
  }
  const logprobs = options.logprobs || topLogprobs > 0 ? prompts.map(() => new Float32Array(totalLen)) : undefined;
  const vocab = model.args.vocabSize;
  const clock = context.clock ?? new UsageClock();
  let prevPos = context.cachedPrefix ?? 0;
  if (prevPos > 0 && (batch !== 1 || prevPos >= minPromptLen)) {
    throw new GenerationError('generate: a cached prefix needs one prompt that is longer than it');
  }

  if (minPromptLen === totalLen) {
    // Nothing to generate. Quirk kept from the reference: here the log-prob at position t scores
    // token t itself under the logits at t (not token t + 1).
    // (With context shift the prompt may not fit; without echo these log-probs are not returned.)
    if (logprobs && totalLen <= maxSeqLen) {
      const logits = await model.forward(
        tokens.map((row) => row.slice(0, totalLen)),
        0,
        { logits: 'all' },
      );
      clock.prefillDone(batch * totalLen);
      for (let b = 0; b < batch; b++) {
        for (let t = 0; t < totalLen; t++) {
          const row = logits.subarray((b * totalLen + t) * vocab, (b * totalLen + t + 1) * vocab);
          (logprobs[b] as Float32Array)[t] = tokenLogprob(row, (tokens[b] as number[])[t] as number);
        }
      }
    }
    return { tokens, logprobs, totalLen, clock };
  }

  const finished = new Array<boolean>(batch).fill(false);
  let window: CacheWindow | undefined = keep === undefined ? undefined : { keep, dropped: 0 };
  for (let curPos = minPromptLen; curPos < totalLen; curPos++) {
    if (options.signal?.aborted) throw options.signal.reason ?? new GenerationError('generation aborted');
    const plan = planStep(window, prevPos, curPos, maxSeqLen);
    const span = plan.positions.length;
    const logits = await model.forward(
      tokens.map((row) => plan.positions.map((p) => row[p] as number)),
      plan.startPos,
      { logits: logprobs ? 'all' : 'last' },
    );
    if (prevPos === (context.cachedPrefix ?? 0)) clock.prefillDone(batch * span);
    else clock.decoded(batch);
    if (plan.shifted) {
      window = plan.window;
      clock.contextShifted();
      context.onContextShift?.(plan.window);
    }
    const rowsPerSequence = logprobs ? span : 1;
    const step: GenerationStep = { position: curPos, next: [], generated: [] };
    if (topLogprobs > 0) step.topLogprobs = [];
    for (let b = 0; b < batch; b++) {
      const row = tokens[b] as number[];
      const lastRow = (b + 1) * rowsPerSequence - 1;
      let next: number;
      if (isPrompt(b, curPos)) {
        next = row[curPos] as number; // forced: the prompt continues
      } else {
        next = sampler.sample(logits.subarray(lastRow * vocab, (lastRow + 1) * vocab), row.slice(0, curPos));
        row[curPos] = next;
      }
      if (logprobs) {
        // Each forwarded position p from prevPos on scores token p + 1. (A shift that drops prompt
        // tokens before they are forwarded leaves their scores 0; checkPrompts refuses that with echo.)
        plan.positions.forEach((p, i) => {
          if (p < prevPos) return;
          const at = b * span + i;
          (logprobs[b] as Float32Array)[p + 1] = tokenLogprob(
            logits.subarray(at * vocab, (at + 1) * vocab),
            row[p + 1] as number,
          );
        });
      }
      if (step.topLogprobs) {
        const scores = logits.subarray(lastRow * vocab, (lastRow + 1) * vocab);
        step.topLogprobs.push(isPrompt(b, curPos) ? [] : topLogprobsOf(scores, topLogprobs));
      }
      if (!isPrompt(b, curPos) && stopTokens.has(next)) finished[b] = true;
      step.next.push(next);
      step.generated.push(!isPrompt(b, curPos));
    }
    if (logprobs) step.logprobs = logprobs.map((row) => row[curPos] as number);
    prevPos = curPos;
    yield step;
    if (finished.every(Boolean)) break;
    await yieldToEventLoop();
  }
  return { tokens, logprobs, totalLen, clock };
}

export function allStopTokens(
  fromTokenizer: ReadonlySet<number>,
  extra: Iterable<number> | undefined,
): ReadonlySet<number> {
  if (!extra) return fromTokenizer;
  const all = new Set(fromTokenizer);
  for (const id of extra) {
    if (!Number.isInteger(id)) throw new GenerationError(`stopTokens must be integer token ids, got ${id}`);
    all.add(id);
  }
  return all;
}

/** The reference's output slicing: start (0 with echo), up to prompt + maxGenLen, cut at the first stop token. */
export function finishGeneration(
  state: LoopState,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions,
  stopTokens: ReadonlySet<number>,
  maxGenLen: number,
): GenerateResult {
  const outTokens: number[][] = [];
  const outLogprobs: number[][] = [];
  prompts.forEach((prompt, b) => {
    const start = options.echo ? 0 : prompt.length;
    const end = prompt.length + maxGenLen;
    let toks = (state.tokens[b] as number[]).slice(start, end);
    let probs = state.logprobs ? Array.from((state.logprobs[b] as Float32Array).slice(start, end)) : [];
    const stop = toks.findIndex((id) => stopTokens.has(id));
    if (stop >= 0) {
      toks = toks.slice(0, stop);
      probs = probs.slice(0, stop);
    }
    // Positions never reached stay -1; they always follow a stop token, so the cut removed them.
    outTokens.push(toks);
    outLogprobs.push(probs);
  });
  const promptTokens = prompts.reduce((sum, p) => sum + p.length, 0);
  const generated = outTokens.reduce(
    (sum, toks, b) => sum + (options.echo ? Math.max(0, toks.length - (prompts[b] as number[]).length) : toks.length),
    0,
  );
  return {
    tokens: outTokens,
    ...(state.logprobs ? { logprobs: outLogprobs } : {}),
    usage: state.clock.finish(promptTokens, generated),
  };
}

/** Runs the whole loop: Llama.generate of the reference. */
export async function generate(
  context: LoopContext,
  prompts: readonly (readonly number[])[],
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const loop = generationLoop(context, prompts, options);
  let result = await loop.next();
  while (!result.done) result = await loop.next();
  const maxGenLen = options.maxGenLen ?? context.model.args.maxSeqLen - 1;
  return finishGeneration(
    result.value,
    prompts,
    options,
    allStopTokens(context.stopTokens, options.stopTokens),
    maxGenLen,
  );
}

/**
 * The reference recipe's data: a character tokenizer over the corpus, the whole corpus encoded,
 * split 80/10/10 (contiguous: train, val, test), and batches at uniformly drawn starts i with
 * x = [bos] + data[i : i+seq-1] and, as the recipe makes them, y = data[i+1 : i+seq] + [eos]; or,
 * with next-token targets, y = data[i : i+seq].
 */

import { CharTokenizer } from '@llama-ts/tokenizer/node';
import { TrainingError } from './errors.js';
import type { TrainingRng } from './rng.js';

export type SplitName = 'train' | 'val' | 'test';

export interface CorpusSplits {
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

export interface TrainingCorpus {
  tokenizer: CharTokenizer;
  /** The whole corpus, encoded (no bos/eos). */
  tokens: Int32Array;
  /** Views into `tokens`. */
  splits: CorpusSplits;
}

/** Row-major [batchSize, seqLen] token ids: the model reads `x` and is trained to predict `y`. */
export interface Batch {
  x: Int32Array;
  y: Int32Array;
  batchSize: number;
  seqLen: number;
}

/**
 * How y lines up with x. 'recipe': y = data[i+1 : i+seq] + [eos], as the reference recipe builds
 * it. Since x[j] = data[i+j-1], y[j] = data[i+j+1] is the character after the next one: a model
 * trained so learns to skip a character, and sampling from it one character at a time garbles the
 * text. 'next-token': y = data[i : i+seq], so y[j] = data[i+j] follows x[j], the usual language
 * modelling objective (x[0] = bos predicts the first character).
 */
export type TargetAlignment = 'recipe' | 'next-token';

export interface BatchOptions {
  batchSize: number;
  seqLen: number;
  bosId: number;
  eosId: number;
  /** Default 'recipe'. */
  targets?: TargetAlignment;
}

/** The recipe's fractions: 80% train, 10% val, the rest test. */
export const REFERENCE_SPLIT = Object.freeze({ train: 0.8, val: 0.1 });

/** Builds the tokenizer from `text` (unless one is given), encodes all of it and splits it. */
export function prepareCorpus(
  text: string,
  options: { tokenizer?: CharTokenizer; split?: { train: number; val: number } } = {},
): TrainingCorpus {
  const tokenizer = options.tokenizer ?? CharTokenizer.fromCorpus(text);
  const tokens = Int32Array.from(tokenizer.encode(text));
  return { tokenizer, tokens, splits: splitTokens(tokens, options.split) };
}

/**
 * Contiguous train/val/test views, cut where the recipe cuts them: `int(0.8 * n)` and `int(0.9 * n)`
 * (the val boundary is `int((train + val) * n)`).
 */
export function splitTokens(
  tokens: Int32Array,
  fractions: { train: number; val: number } = REFERENCE_SPLIT,
): CorpusSplits {
  const { train, val } = fractions;
  if (!(train > 0 && val >= 0 && train + val <= 1)) {
    throw new TrainingError(
      `splitTokens: fractions must satisfy train > 0, val >= 0, train + val <= 1; got train ${train}, val ${val}`,
    );
  }
  const n = tokens.length;
  const trainEnd = Math.floor(train * n);
  const valEnd = Math.floor((train + val) * n);
  return {
    train: tokens.subarray(0, trainEnd),
    val: tokens.subarray(trainEnd, valEnd),
    test: tokens.subarray(valEnd),
  };
}

/**
 * How many starts i a split of `length` tokens offers: y reads data[i + seqLen - 1], so
 * i ranges over 0..length - seqLen. (The recipe draws from 0..length - seqLen - 4, a few fewer;
 * the difference is negligible and every start used here is valid.)
 */
export function batchStartCount(length: number, seqLen: number): number {
  return Math.max(0, length - seqLen + 1);
}

function checkBatchOptions(data: Int32Array, options: BatchOptions, what: string): void {
  const { batchSize, seqLen, bosId, eosId } = options;
  if (!Number.isInteger(seqLen) || seqLen < 2) {
    throw new TrainingError(`${what}: seqLen must be an integer >= 2 (bos plus at least one token), got ${seqLen}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new TrainingError(`${what}: batchSize must be a positive integer, got ${batchSize}`);
  }
  for (const [name, id] of [
    ['bosId', bosId],
    ['eosId', eosId],
  ] as const) {
    if (!Number.isInteger(id) || id < 0) throw new TrainingError(`${what}: ${name} must be a token id, got ${id}`);
  }
  if (batchStartCount(data.length, seqLen) < 1) {
    throw new TrainingError(
      `${what}: the split has ${data.length} tokens, too few for sequences of ${seqLen} (needs at least ${seqLen})`,
    );
  }
}

/** The batch whose rows start at `starts` (exposed so tests and evaluation can pick rows). */
export function batchAt(data: Int32Array, starts: readonly number[], options: BatchOptions): Batch {
  checkBatchOptions(data, { ...options, batchSize: starts.length }, 'batchAt');
  const { seqLen, bosId, eosId } = options;
  const batchSize = starts.length;
  const x = new Int32Array(batchSize * seqLen);
  const y = new Int32Array(batchSize * seqLen);
  const lastStart = data.length - seqLen;
  starts.forEach((i, row) => {
    if (!Number.isInteger(i) || i < 0 || i > lastStart) {
      throw new TrainingError(`batchAt: start ${i} of row ${row} is outside 0..${lastStart}`);
    }
    const at = row * seqLen;
    x[at] = bosId;
    x.set(data.subarray(i, i + seqLen - 1), at + 1);
    if (options.targets === 'next-token') {
      y.set(data.subarray(i, i + seqLen), at);
    } else {
      y.set(data.subarray(i + 1, i + seqLen), at);
      y[at + seqLen - 1] = eosId;
    }
  });
  return { x, y, batchSize, seqLen };
}

/** One batch of `batchSize` rows at starts drawn uniformly (with replacement) by `rng`. */
export function sampleBatch(data: Int32Array, options: BatchOptions, rng: TrainingRng): Batch {
  checkBatchOptions(data, options, 'sampleBatch');
  const count = batchStartCount(data.length, options.seqLen);
  const starts = Array.from({ length: options.batchSize }, () => rng.int(count));
  return batchAt(data, starts, options);
}

/** Draws batches from one split with its own options; `next()` is `sampleBatch` with them. */
export class BatchSampler {
  constructor(
    readonly data: Int32Array,
    readonly options: BatchOptions,
    readonly rng: TrainingRng,
  ) {
    checkBatchOptions(data, options, 'BatchSampler');
  }

  next(): Batch {
    return sampleBatch(this.data, this.options, this.rng);
  }
}

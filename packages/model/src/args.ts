import type { HFLlamaConfig } from './checkpoint/hf-config.js';
import { ModelError } from './errors.js';
import { LLAMA31_ROPE_SCALING, type RopeScaling } from './rope.js';

/**
 * Which generation of Llama a checkpoint follows: Llama 3 (tiktoken, rope_theta 500000 by default)
 * or Llama 1/2 (SentencePiece, RoPE theta 10000, `vocab_size: -1` in Meta's params.json).
 */
export type LlamaFamily = 'llama3' | 'llama2';

/** Llama 2's RoPE base (its reference has no rope_theta: precompute_freqs_cis's default). */
export const LLAMA2_ROPE_THETA = 10000;
/** Llama 3's default when params.json has no rope_theta. */
export const LLAMA3_ROPE_THETA = 500000;

/**
 * The architecture of one Llama model, as the forward pass needs it: Meta's `ModelArgs` with every
 * derived size computed once (head_dim, the feed-forward width), plus how RoPE pairs are laid out.
 */
export interface ModelArgs {
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  vocabSize: number;
  /** Feed-forward hidden width (14336 for Llama 3 8B). */
  ffnHiddenDim: number;
  normEps: number;
  ropeTheta: number;
  /** Llama 3.1+ frequency scaling, when the checkpoint declares it. */
  ropeScaling?: RopeScaling;
  /**
   * A divisor per rotation frequency (headDim / 2 of them), as llama.cpp's `rope_freqs.weight`
   * stores Llama 3.1's scaling in a GGUF file; applied instead of ropeScaling.
   */
  ropeFreqFactors?: readonly number[];
  /** 'interleaved' (Meta checkpoints) or 'half' (Hugging Face's permuted q/k rows). */
  ropeLayout: 'interleaved' | 'half';
  /** Longest sequence (prompt + generation) the KV cache holds. */
  maxSeqLen: number;
  /** Sequences per forward call (KV cache slots). */
  maxBatchSize: number;
  /** The family the parameters were read as (see argsFromMetaParams and argsFromHF). */
  family: LlamaFamily;
}

export interface RuntimeSizes {
  /** Default: the checkpoint's own `max_seq_len` (from our trained models) or 2048. */
  maxSeqLen?: number;
  /** Default 1. */
  maxBatchSize?: number;
}

/**
 * What the tokenizer tells about a checkpoint whose parameters leave it open. Meta's Llama 1/2
 * `params.json` has `vocab_size: -1` (the reference sets it from the tokenizer) and no
 * `rope_theta`, whose default depends on the family.
 */
export interface CheckpointOptions extends RuntimeSizes {
  /** The tokenizer's vocabulary size, used where params.json says -1. */
  vocabSize?: number;
  /** The tokenizer's family: decides the family, and so rope_theta where the checkpoint has none. */
  family?: LlamaFamily;
}

/** Meta's feed-forward width rule (Python ints; `int()` truncates). */
export function ffnHiddenDim(dim: number, multipleOf: number, ffnDimMultiplier?: number | null): number {
  let hidden = Math.trunc((2 * (4 * dim)) / 3);
  if (ffnDimMultiplier !== undefined && ffnDimMultiplier !== null) hidden = Math.trunc(ffnDimMultiplier * hidden);
  return multipleOf * Math.ceil(hidden / multipleOf);
}

type Json = Record<string, unknown>;

function field(
  json: Json,
  source: string,
  name: string,
  kind: 'int' | 'number',
  options: { min?: number; positive?: boolean; fallback?: number } = {},
): number {
  const value = json[name] ?? options.fallback;
  if (value === undefined || value === null) throw new ModelError(`${source}: field "${name}" is missing`);
  if (typeof value !== 'number' || !Number.isFinite(value) || (kind === 'int' && !Number.isInteger(value))) {
    throw new ModelError(
      `${source}: field "${name}" must be ${kind === 'int' ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`,
    );
  }
  if (options.min !== undefined && value < options.min) {
    throw new ModelError(`${source}: field "${name}" must be at least ${options.min}, got ${value}`);
  }
  if (options.positive && !(value > 0)) {
    throw new ModelError(`${source}: field "${name}" must be a number greater than 0, got ${value}`);
  }
  return value;
}

/** maxSeqLen and maxBatchSize from the caller's sizes, within what the checkpoint was trained for. */
export function runtimeSizes(sizes: RuntimeSizes, checkpointMaxSeqLen: number | undefined, source: string) {
  const maxSeqLen = sizes.maxSeqLen ?? checkpointMaxSeqLen ?? 2048;
  const maxBatchSize = sizes.maxBatchSize ?? 1;
  if (!Number.isInteger(maxSeqLen) || maxSeqLen < 1)
    throw new ModelError(`maxSeqLen must be a positive integer, got ${maxSeqLen}`);
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) {
    throw new ModelError(`maxBatchSize must be a positive integer, got ${maxBatchSize}`);
  }
  if (checkpointMaxSeqLen !== undefined && maxSeqLen > checkpointMaxSeqLen) {
    throw new ModelError(
      `maxSeqLen ${maxSeqLen} is longer than the ${checkpointMaxSeqLen} positions ${source} was trained for`,
    );
  }
  return { maxSeqLen, maxBatchSize };
}

/** Checks the relations between sizes that the forward pass relies on. */
export function checkedArgs(args: ModelArgs, source: string): ModelArgs {
  if (args.dim % args.nHeads !== 0) {
    throw new ModelError(`${source}: dim ${args.dim} is not a multiple of the number of heads ${args.nHeads}`);
  }
  if (args.nHeads % args.nKvHeads !== 0) {
    throw new ModelError(
      `${source}: the number of heads ${args.nHeads} is not a multiple of the kv heads ${args.nKvHeads}`,
    );
  }
  if (args.headDim % 2 !== 0) throw new ModelError(`${source}: head_dim ${args.headDim} must be even for RoPE`);
  return Object.freeze(args);
}

/**
 * From Meta's `params.json`, with the reference's defaults for absent fields. The family is the
 * tokenizer's (`options.family`), else Llama 1/2 when vocab_size is -1 (as Meta ships them), else
 * Llama 3; an absent rope_theta is 10000 for Llama 1/2 and 500000 for Llama 3.
 */
export function argsFromMetaParams(params: unknown, sizes: CheckpointOptions = {}, source = 'params.json'): ModelArgs {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new ModelError(`${source}: expected a JSON object of model hyper-parameters`);
  }
  const json = params as Json;
  const dim = field(json, source, 'dim', 'int', { min: 1 });
  const nHeads = field(json, source, 'n_heads', 'int', { min: 1 });
  const multipleOf = field(json, source, 'multiple_of', 'int', { min: 1, fallback: 256 });
  const multiplier = json.ffn_dim_multiplier;
  if (
    multiplier !== undefined &&
    multiplier !== null &&
    (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier <= 0)
  ) {
    throw new ModelError(
      `${source}: field "ffn_dim_multiplier" must be a number or null (a number greater than 0), got ${JSON.stringify(multiplier)}`,
    );
  }
  if (json.use_scaled_rope !== undefined && typeof json.use_scaled_rope !== 'boolean') {
    throw new ModelError(
      `${source}: field "use_scaled_rope" must be true or false, got ${JSON.stringify(json.use_scaled_rope)}`,
    );
  }
  const checkpointMaxSeqLen =
    json.max_seq_len === undefined ? undefined : field(json, source, 'max_seq_len', 'int', { min: 1 });
  const vocabFromTokenizer = json.vocab_size === -1;
  if (vocabFromTokenizer && sizes.vocabSize === undefined) {
    throw new ModelError(
      `${source}: field "vocab_size" is -1 (Llama 1/2: the vocabulary size comes from the tokenizer), and no tokenizer was given`,
    );
  }
  const family = sizes.family ?? (vocabFromTokenizer ? 'llama2' : 'llama3');
  return checkedArgs(
    {
      dim,
      nLayers: field(json, source, 'n_layers', 'int', { min: 1 }),
      nHeads,
      nKvHeads: field(json, source, 'n_kv_heads', 'int', { min: 1, fallback: nHeads }),
      headDim: dim / nHeads,
      vocabSize: vocabFromTokenizer
        ? (sizes.vocabSize as number)
        : field(json, source, 'vocab_size', 'int', { min: 1 }),
      ffnHiddenDim: ffnHiddenDim(dim, multipleOf, multiplier as number | null | undefined),
      // A norm_eps <= 0 lets RMSNorm divide by zero, a rope_theta <= 0 makes NaN angles: both silently.
      normEps: field(json, source, 'norm_eps', 'number', { positive: true, fallback: 1e-5 }),
      ropeTheta: field(json, source, 'rope_theta', 'number', {
        positive: true,
        fallback: family === 'llama2' ? LLAMA2_ROPE_THETA : LLAMA3_ROPE_THETA,
      }),
      ...(json.use_scaled_rope ? { ropeScaling: LLAMA31_ROPE_SCALING } : {}),
      ropeLayout: 'interleaved',
      ...runtimeSizes(sizes, checkpointMaxSeqLen, source),
      family,
    },
    source,
  );
}

/**
 * From a validated Hugging Face config: RoPE pairs stay in HF's half-split layout; an absent
 * rope_theta is transformers' 10000 whatever the family. The family is the tokenizer's, else Llama
 * 1/2 when the config has no rope_theta (Llama 3 configs always state theirs).
 */
export function argsFromHF(config: HFLlamaConfig, sizes: CheckpointOptions = {}, source = 'config.json'): ModelArgs {
  const heads = config.num_attention_heads;
  const headDim = config.head_dim ?? config.hidden_size / heads;
  if (headDim * heads !== config.hidden_size) {
    throw new ModelError(
      `${source}: head_dim ${headDim} × num_attention_heads ${heads} ≠ hidden_size ${config.hidden_size}`,
    );
  }
  const scaling = config.rope_scaling;
  return checkedArgs(
    {
      dim: config.hidden_size,
      nLayers: config.num_hidden_layers,
      nHeads: heads,
      nKvHeads: config.num_key_value_heads ?? heads,
      headDim,
      vocabSize: config.vocab_size,
      ffnHiddenDim: config.intermediate_size,
      normEps: config.rms_norm_eps,
      ropeTheta: config.rope_theta ?? 10000,
      ...(scaling
        ? {
            ropeScaling: {
              factor: scaling.factor,
              lowFreqFactor: scaling.low_freq_factor,
              highFreqFactor: scaling.high_freq_factor,
              originalMaxPositions: scaling.original_max_position_embeddings,
            },
          }
        : {}),
      ropeLayout: 'half',
      ...runtimeSizes(sizes, undefined, source),
      family: sizes.family ?? (config.rope_theta === undefined ? 'llama2' : 'llama3'),
    },
    source,
  );
}

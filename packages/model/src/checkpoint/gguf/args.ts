import { checkedArgs, type ModelArgs, type RuntimeSizes, runtimeSizes } from '../../args.js';
import { ModelError } from '../../errors.js';
import type { GGUFMetadata } from './metadata.js';

/** The architecture llama-ts runs: Llama 2, 3, 3.1 and 3.2 files all say `llama`. */
export const GGUF_ARCHITECTURE = 'llama';
/** Without --max-seq-len, the KV cache holds this many positions (or the model's context, if shorter). */
const DEFAULT_MAX_SEQ_LEN = 2048;

export interface GGUFArgsInputs {
  metadata: GGUFMetadata;
  /** token_embd.weight's rows, when the metadata has no vocabulary size. */
  embeddingRows: number | undefined;
  /** The values of rope_freqs.weight, when the file has it. */
  ropeFreqs: readonly number[] | undefined;
}

/** Checks `general.architecture` before anything else is read from the metadata. */
export function checkArchitecture(metadata: GGUFMetadata): void {
  const architecture = metadata.string('general.architecture');
  if (architecture !== GGUF_ARCHITECTURE) {
    metadata.fail(
      'general.architecture',
      `is "${architecture}"; only "${GGUF_ARCHITECTURE}" models (Llama 2, 3, 3.1, 3.2) are supported`,
    );
  }
}

/**
 * ModelArgs from a `llama` GGUF's metadata (llama.cpp's LLM_KV names, prefixed `llama.`). q/k rows
 * are in Meta's interleaved order (llama.cpp's converter undoes transformers' permutation), so RoPE
 * rotates interleaved pairs.
 */
export function argsFromGGUF(inputs: GGUFArgsInputs, sizes: RuntimeSizes = {}): ModelArgs {
  const { metadata } = inputs;
  const key = (name: string) => `${GGUF_ARCHITECTURE}.${name}`;
  checkArchitecture(metadata);
  const experts = metadata.optionalInteger(key('expert_count'));
  if (experts !== undefined && experts > 0) {
    metadata.fail(key('expert_count'), `is ${experts}: a mixture of experts (Mixtral) is not supported`);
  }

  const dim = metadata.integer(key('embedding_length'), 1);
  const nHeads = metadata.integer(key('attention.head_count'), 1);
  const nKvHeads = metadata.optionalInteger(key('attention.head_count_kv'), 1) ?? nHeads;
  const headDim = dim / nHeads;
  for (const field of ['attention.key_length', 'attention.value_length', 'rope.dimension_count']) {
    const value = metadata.optionalInteger(key(field), 1);
    if (value !== undefined && value !== headDim) {
      metadata.fail(
        key(field),
        `is ${value}, but ${key('embedding_length')} / ${key('attention.head_count')} is ${headDim}; ` +
          'only models whose heads are dim / heads wide, rotated whole, are supported',
      );
    }
  }

  const vocabSize =
    metadata.optionalInteger(key('vocab_size'), 1) ??
    (metadata.has('tokenizer.ggml.tokens') ? metadata.stringArray('tokenizer.ggml.tokens').length : undefined) ??
    inputs.embeddingRows ??
    metadata.fail(key('vocab_size'), 'is missing, and so are tokenizer.ggml.tokens and token_embd.weight');

  const contextLength = metadata.optionalInteger(key('context_length'), 1);
  const maxSeqLen = sizes.maxSeqLen ?? Math.min(DEFAULT_MAX_SEQ_LEN, contextLength ?? DEFAULT_MAX_SEQ_LEN);
  const ropeFreqFactors = ropeDivisors(inputs, headDim, key);

  return checkedArgs(
    {
      dim,
      nLayers: metadata.integer(key('block_count'), 1),
      nHeads,
      nKvHeads,
      headDim,
      vocabSize,
      ffnHiddenDim: metadata.integer(key('feed_forward_length'), 1),
      normEps: metadata.positiveNumber(key('attention.layer_norm_rms_epsilon')),
      ropeTheta: metadata.optionalPositiveNumber(key('rope.freq_base')) ?? 10000,
      ...(ropeFreqFactors ? { ropeFreqFactors } : {}),
      ropeLayout: 'interleaved',
      ...runtimeSizes({ ...sizes, maxSeqLen }, contextLength, metadata.path),
      // A SentencePiece vocabulary ("llama") is Llama 1/2's; byte-level BPE ("gpt2") is Llama 3's.
      family: metadata.optionalString('tokenizer.ggml.model') === 'llama' ? 'llama2' : 'llama3',
    },
    metadata.path,
  );
}

/**
 * The divisor of each rotation frequency, as llama.cpp applies them: rope_freqs.weight (Llama 3.1's
 * scaling, written by convert_hf_to_gguf from the config's rope_scaling) times a linear
 * `rope.scaling.factor`; undefined when neither is there.
 */
function ropeDivisors(inputs: GGUFArgsInputs, headDim: number, key: (name: string) => string): number[] | undefined {
  const { metadata, ropeFreqs } = inputs;
  const scalingType = metadata.optionalString(key('rope.scaling.type')) ?? 'none';
  if (scalingType !== 'none' && scalingType !== 'linear') {
    metadata.fail(
      key('rope.scaling.type'),
      `is "${scalingType}"; only "none", "linear" and Llama 3.1's rope_freqs.weight are supported`,
    );
  }
  const linear = scalingType === 'linear' ? metadata.positiveNumber(key('rope.scaling.factor')) : 1;
  if (ropeFreqs === undefined && linear === 1) return undefined;
  const count = headDim / 2;
  if (ropeFreqs !== undefined) {
    if (ropeFreqs.length !== count) {
      throw new ModelError(
        `${metadata.path}: tensor "rope_freqs.weight" has ${ropeFreqs.length} values; the head dimension ${headDim} has ${count} frequencies`,
      );
    }
    ropeFreqs.forEach((value, i) => {
      if (!(value > 0) || !Number.isFinite(value)) {
        throw new ModelError(
          `${metadata.path}: tensor "rope_freqs.weight" holds ${value} at ${i}; expected positive divisors`,
        );
      }
    });
  }
  return Array.from({ length: count }, (_, i) => (ropeFreqs?.[i] ?? 1) * linear);
}

import { readSharedJson } from '@llama-ts/test-support';
import { describe, expect, it } from 'vitest';
import { parseHFConfig } from '../src/checkpoint/hf-config.js';
import { argsFromHF, argsFromMetaParams, ffnHiddenDim, ModelError } from '../src/index.js';

describe('ffnHiddenDim (Meta rule, spec §4.2)', () => {
  it.each([
    ['Llama 3 8B', 4096, 1024, 1.3, 14336],
    ['Llama 3 70B', 8192, 4096, 1.3, 28672],
    ['Llama 3.2 1B', 2048, 256, 1.5, 8192],
    ['Llama 3.2 3B', 3072, 256, 1.0, 8192],
    ['tiny-meta-bf16', 64, 32, 1.3, 224],
    ['no multiplier', 512, 256, null, 1536],
  ])('%s', (_, dim, multipleOf, multiplier, expected) => {
    expect(ffnHiddenDim(dim, multipleOf, multiplier)).toBe(expected);
  });
});

describe('argsFromMetaParams', () => {
  const llama3_8b = {
    dim: 4096,
    n_layers: 32,
    n_heads: 32,
    n_kv_heads: 8,
    vocab_size: 128256,
    multiple_of: 1024,
    ffn_dim_multiplier: 1.3,
    norm_eps: 1e-5,
    rope_theta: 500000.0,
  };

  it('derives the 8B sizes', () => {
    const args = argsFromMetaParams(llama3_8b, { maxSeqLen: 8192, maxBatchSize: 4 });
    expect(args).toMatchObject({
      headDim: 128,
      ffnHiddenDim: 14336,
      nKvHeads: 8,
      ropeLayout: 'interleaved',
      maxSeqLen: 8192,
      maxBatchSize: 4,
    });
    expect(args.ropeScaling).toBeUndefined();
  });

  it('applies the reference defaults and Llama 3.1 scaling', () => {
    const args = argsFromMetaParams({ dim: 64, n_layers: 1, n_heads: 4, vocab_size: 10, use_scaled_rope: true });
    expect(args).toMatchObject({ nKvHeads: 4, normEps: 1e-5, ropeTheta: 500000, maxSeqLen: 2048, maxBatchSize: 1 });
    expect(args.ropeScaling).toEqual({ factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 });
  });

  it('reads the golden params.json', () => {
    const params = readSharedJson('golden', 'tiny-meta-bf16', 'params.json');
    expect(argsFromMetaParams(params)).toMatchObject({
      dim: 64,
      nLayers: 2,
      nHeads: 4,
      nKvHeads: 2,
      headDim: 16,
      vocabSize: 512,
      ffnHiddenDim: 224,
    });
  });

  it("uses a checkpoint's own max_seq_len and refuses a longer context", () => {
    const params = { dim: 64, n_layers: 1, n_heads: 4, vocab_size: 68, max_seq_len: 256 };
    expect(argsFromMetaParams(params).maxSeqLen).toBe(256);
    expect(() => argsFromMetaParams(params, { maxSeqLen: 512 })).toThrow(
      /maxSeqLen 512 is longer than the 256 positions/,
    );
  });

  it.each([
    [{ ...llama3_8b, dim: undefined }, 'params.json: field "dim" is missing'],
    [{ ...llama3_8b, n_heads: 'many' }, 'params.json: field "n_heads" must be an integer, got "many"'],
    [{ ...llama3_8b, n_kv_heads: 7 }, 'params.json: the number of heads 32 is not a multiple of the kv heads 7'],
    [{ ...llama3_8b, dim: 4100 }, 'params.json: dim 4100 is not a multiple of the number of heads 32'],
    [{ ...llama3_8b, dim: 4000 }, 'params.json: head_dim 125 must be even for RoPE'],
    [{ ...llama3_8b, vocab_size: -1 }, 'params.json: field "vocab_size" must be at least 1, got -1'],
    [{ ...llama3_8b, ffn_dim_multiplier: '1.3' }, 'params.json: field "ffn_dim_multiplier" must be a number or null'],
    [[], 'params.json: expected a JSON object'],
    [{ ...llama3_8b, norm_eps: 0 }, 'params.json: field "norm_eps" must be a number greater than 0, got 0'],
    [{ ...llama3_8b, norm_eps: -1e-5 }, 'params.json: field "norm_eps" must be a number greater than 0, got -0.00001'],
    [{ ...llama3_8b, rope_theta: 0 }, 'params.json: field "rope_theta" must be a number greater than 0, got 0'],
    [{ ...llama3_8b, rope_theta: -500000 }, 'params.json: field "rope_theta" must be a number greater than 0'],
    [{ ...llama3_8b, ffn_dim_multiplier: -1.3 }, 'params.json: field "ffn_dim_multiplier" must be a number or null'],
  ])('names the field at fault (%#)', (params, message) => {
    expect(() => argsFromMetaParams(params)).toThrow(ModelError);
    expect(() => argsFromMetaParams(params)).toThrow(message);
  });

  it('checks the runtime sizes', () => {
    expect(() => argsFromMetaParams(llama3_8b, { maxSeqLen: 0 })).toThrow(
      'maxSeqLen must be a positive integer, got 0',
    );
    expect(() => argsFromMetaParams(llama3_8b, { maxBatchSize: 1.5 })).toThrow(
      'maxBatchSize must be a positive integer',
    );
  });
});

describe('argsFromHF', () => {
  it('reads the golden config.json with the half-split RoPE layout', () => {
    const config = parseHFConfig(readSharedJson('golden', 'tiny-hf-f16', 'config.json'), 'config.json');
    expect(argsFromHF(config)).toMatchObject({
      dim: 96,
      nLayers: 3,
      nHeads: 6,
      nKvHeads: 2,
      headDim: 16,
      vocabSize: 384,
      ffnHiddenDim: 288,
      ropeTheta: 500000,
      ropeLayout: 'half',
    });
  });

  it('maps rope_scaling to the kernels scaling', () => {
    const config = parseHFConfig(
      {
        ...readSharedJson<Record<string, unknown>>('golden', 'tiny-hf-f16', 'config.json'),
        rope_scaling: {
          rope_type: 'llama3',
          factor: 32,
          low_freq_factor: 1,
          high_freq_factor: 4,
          original_max_position_embeddings: 8192,
        },
      },
      'config.json',
    );
    expect(argsFromHF(config).ropeScaling).toEqual({
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositions: 8192,
    });
  });
});

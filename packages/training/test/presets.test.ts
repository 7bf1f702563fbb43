import { describe, expect, it } from 'vitest';
import { parameterCount } from '../src/init.js';
import { defaultPreset, estimateTrainingFlops, getPreset, PRESETS, presetArgs, seed003 } from '../src/presets.js';
import { learningRate } from '../src/schedule.js';

const VOCAB = 68;

describe('seed003: the reference recipe', () => {
  it('has the recipe hyper-parameters', () => {
    expect(seed003.model).toEqual({
      dim: 512,
      n_layers: 8,
      n_heads: 8,
      n_kv_heads: 4,
      multiple_of: 256,
      ffn_dim_multiplier: null,
      norm_eps: 1e-5,
      rope_theta: 10000,
    });
    expect([seed003.seqLen, seed003.batchSize, seed003.steps]).toEqual([256, 10, 2500]);
    expect(seed003.optimizer).toMatchObject({ kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    expect(learningRate(seed003.schedule, 0)).toBe(1e-3);
    expect(learningRate(seed003.schedule, 2499)).toBe(1e-3);
    expect(seed003.init.kind).toBe('torch-default');
    expect(seed003.evalBatches).toBe(10);
  });

  it('gives the recipe model: ffn 1536, head_dim 64', () => {
    const args = presetArgs(seed003, VOCAB);
    expect(args.ffnHiddenDim).toBe(1536);
    expect(args.headDim).toBe(64);
    expect(args.maxSeqLen).toBe(256);
    expect(args.vocabSize).toBe(68);
    // 8 × (2·512² + 2·256·512 + 3·1536·512 + 2·512) + 2·68·512 + 512
    expect(parameterCount(args)).toBe(8 * (2 * 512 * 512 + 2 * 256 * 512 + 3 * 1536 * 512 + 1024) + 2 * 68 * 512 + 512);
  });
});

describe('default: sized for a 2-core CPU', () => {
  // 3.3 GFLOP/s: the CPU backend's training throughput on this preset, measured by
  // packages/training's bench on the 2-core development machine (3.31-3.41).
  it('fits in 45 minutes at the measured 3.3 GFLOP/s with 10 % to spare', () => {
    const estimate = estimateTrainingFlops(defaultPreset, VOCAB, 3.3);
    expect(estimate.parameters).toBe(407_136);
    expect(estimate.matmulParameters).toBe(399_744);
    expect(estimate.tokensPerStep).toBe(768);
    expect(estimate.totalFlops).toBeLessThan(0.9 * 45 * 60 * 3.3e9);
    expect(estimate.seconds / 60).toBeLessThan(41);
  });

  it("trains on next-token targets; seed003 keeps the recipe's alignment", () => {
    expect(defaultPreset.targets).toBe('next-token');
    expect(seed003.targets).toBe('recipe');
  });

  it('makes a valid model and schedule', () => {
    const args = presetArgs(defaultPreset, VOCAB);
    expect(args.ffnHiddenDim).toBe(256);
    expect(args.headDim).toBe(32);
    expect(learningRate(defaultPreset.schedule, defaultPreset.steps - 1)).toBeGreaterThanOrEqual(6e-4);
    expect(defaultPreset.checkpointInterval % defaultPreset.evalInterval).toBe(0);
  });

  it('seed003 is a GPU-sized run by comparison', () => {
    expect(estimateTrainingFlops(seed003, VOCAB).totalFlops).toBeGreaterThan(100 * 5.4e12);
  });
});

describe('getPreset', () => {
  it('finds presets by name and lists them when unknown', () => {
    expect(getPreset('default')).toBe(defaultPreset);
    expect(getPreset('seed003')).toBe(seed003);
    expect(Object.keys(PRESETS)).toEqual(['seed003', 'default']);
    expect(() => getPreset('toString')).toThrow(/known: seed003, default/);
  });
});

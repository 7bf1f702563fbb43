import { argsFromMetaParams, expectedShapes } from '@llama-ts/model';
import { describe, expect, it } from 'vitest';
import { GPT2_INIT, initParameters, numel, parameterCount, parameterSpecs, TORCH_DEFAULT_INIT } from '../src/init.js';
import { TrainingRng } from '../src/rng.js';

const args = argsFromMetaParams({
  dim: 64,
  n_layers: 2,
  n_heads: 4,
  n_kv_heads: 2,
  vocab_size: 68,
  multiple_of: 32,
  max_seq_len: 32,
});

function stats(values: Float32Array): { mean: number; std: number; maxAbs: number } {
  let sum = 0;
  let sumSq = 0;
  let maxAbs = 0;
  for (const v of values) {
    sum += v;
    sumSq += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sumSq / values.length - mean * mean), maxAbs };
}

describe('parameterSpecs', () => {
  it('lists every expected tensor once, in state_dict order, with its shape', () => {
    const specs = parameterSpecs(args);
    const expected = expectedShapes(args);
    expect(specs.length).toBe(expected.size);
    for (const { name, shape } of specs) expect(shape).toEqual(expected.get(name));
    expect(specs[0]?.name).toBe('tok_embeddings.weight');
    expect(specs[1]?.name).toBe('layers.0.attention.wq.weight');
    expect(specs.at(-1)?.name).toBe('output.weight');
    expect(parameterCount(args)).toBe(specs.reduce((sum, s) => sum + numel(s.shape), 0));
  });
});

describe('initParameters', () => {
  it('normal(0, 0.02): matrices N(0, 0.02), residual projections scaled, norms 1', () => {
    const params = initParameters(args, { seed: 1, scheme: GPT2_INIT });
    for (const { name, shape } of parameterSpecs(args)) {
      const values = params.get(name) as Float32Array;
      expect(values.length).toBe(numel(shape));
      if (name.endsWith('norm.weight')) {
        expect(values.every((v) => v === 1)).toBe(true);
        continue;
      }
      const residual = name.endsWith('wo.weight') || name.endsWith('w2.weight');
      const std = residual ? 0.02 / Math.sqrt(4) : 0.02;
      const s = stats(values);
      expect(Math.abs(s.mean)).toBeLessThan(std * 0.2);
      expect(Math.abs(s.std / std - 1)).toBeLessThan(0.15);
    }
  });

  it('torch-default: Linear U(±1/√fan_in), Embedding N(0, 1), norms 1', () => {
    const params = initParameters(args, { seed: 2, scheme: TORCH_DEFAULT_INIT });
    const emb = stats(params.get('tok_embeddings.weight') as Float32Array);
    expect(Math.abs(emb.std - 1)).toBeLessThan(0.1);
    const w2 = params.get('layers.1.feed_forward.w2.weight') as Float32Array;
    const bound = 1 / Math.sqrt(args.ffnHiddenDim);
    const s = stats(w2);
    expect(s.maxAbs).toBeLessThanOrEqual(bound);
    expect(Math.abs(s.std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.05);
    const out = stats(params.get('output.weight') as Float32Array);
    expect(out.maxAbs).toBeLessThanOrEqual(1 / Math.sqrt(64));
    expect((params.get('norm.weight') as Float32Array).every((v) => v === 1)).toBe(true);
  });

  it('is reproducible from a seed or an RNG state', () => {
    const a = initParameters(args, { seed: 11 });
    const b = initParameters(args, { seed: 11 });
    const c = initParameters(args, { seed: 12 });
    expect(a.get('layers.1.attention.wk.weight')).toEqual(b.get('layers.1.attention.wk.weight'));
    expect(a.get('layers.1.attention.wk.weight')).not.toEqual(c.get('layers.1.attention.wk.weight'));
    const rng = new TrainingRng(11);
    expect(initParameters(args, { seed: rng }).get('output.weight')).toEqual(a.get('output.weight'));
  });

  it('rejects a bad scheme', () => {
    expect(() => initParameters(args, { seed: 1, scheme: { kind: 'normal', std: 0, scaleResidual: false } })).toThrow(
      /std must be a positive number/,
    );
  });
});

// Both golden checkpoints reproduce their expected.json (computed by an independent float64
// implementation) on every backend (cpu, webgpu, wasm on 1, 2 and 3 threads): prompt log-probs,
// top-5 logits and the greedy continuation.
import { createBackend } from '@llama-ts/kernels';
import {
  backendPool,
  MODEL_TEST_BACKENDS,
  modelTestFactories,
  readSharedJson,
  sharedPath,
} from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Transformer } from '../src/index.js';

interface Expected {
  tokens: number[];
  prompt_logprobs: number[];
  top5_ids: number[][];
  top5_logits: number[][];
  greedy: { tokens: number[]; margins: number[]; logprobs: number[] };
  tolerances: { logprob_atol: number; greedy_near_tie_margin: number };
}

const FIXTURES = ['tiny-meta-bf16', 'tiny-hf-f16'] as const;
/**
 * top5_logits are printed with 7 significant digits (~1e-5 relative at logits ~10); a float32
 * forward pass with f16 storage of bf16/f16 weights (exact here) lands within ~1e-4 of float64.
 */
const TOP5_LOGIT_ATOL = 2e-3;

function logSoftmax(row: Float32Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const logSum = Math.log(sum) + max;
  return Float64Array.from(row, (v) => v - logSum);
}

function topK(row: Float32Array, k: number): number[] {
  return Array.from(row.keys())
    .sort((a, b) => (row[b] as number) - (row[a] as number) || a - b)
    .slice(0, k);
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[best] as number)) best = i;
  return best;
}

const backends = backendPool(modelTestFactories(createBackend));
beforeAll(() => backends.setUp(MODEL_TEST_BACKENDS));
afterAll(() => backends.tearDown());

describe.each(FIXTURES)('%s', (fixture) => {
  const expected = readSharedJson<Expected>('golden', fixture, 'expected.json');

  describe.each(MODEL_TEST_BACKENDS)('on %s', (backendName) => {
    let model: Transformer | undefined;

    beforeAll(async () => {
      const backend = backends.find(backendName);
      if (backend) model = await loadModel(sharedPath('golden', fixture), { backend, maxSeqLen: 64, maxBatchSize: 2 });
    });
    afterAll(() => model?.dispose());

    it('reproduces the prompt log-probs and top-5 logits in one pass', async (context) => {
      if (!model) return context.skip(backends.whyUnavailable(backendName));
      const { tokens } = expected;
      const logits = await model.forward([tokens], 0, { logits: 'all' });
      const vocabSize = model.args.vocabSize;
      let worst = 0;
      for (let t = 0; t < tokens.length; t++) {
        const row = logits.subarray(t * vocabSize, (t + 1) * vocabSize);
        if (t < tokens.length - 1) {
          const got = logSoftmax(row)[tokens[t + 1] as number] as number;
          const want = expected.prompt_logprobs[t] as number;
          worst = Math.max(worst, Math.abs(got - want));
          expect(Math.abs(got - want), `log-prob at position ${t}`).toBeLessThanOrEqual(
            expected.tolerances.logprob_atol,
          );
        }
        expect(topK(row, 5), `top-5 ids at position ${t}`).toEqual(expected.top5_ids[t]);
        (expected.top5_logits[t] as number[]).forEach((want, i) => {
          const id = (expected.top5_ids[t] as number[])[i] as number;
          expect(Math.abs((row[id] as number) - want), `logit of ${id} at position ${t}`).toBeLessThanOrEqual(
            TOP5_LOGIT_ATOL,
          );
        });
      }
      console.info(`${fixture} on ${backendName}: max |Δ log-prob| = ${worst.toExponential(2)}`);
    });

    it('reproduces the greedy continuation, decoding one token at a time with the KV cache', async (context) => {
      if (!model) return context.skip(backends.whyUnavailable(backendName));
      const { tokens, greedy, tolerances } = expected;
      const generated: number[] = [];
      let logits = await model.forward([tokens], 0);
      for (let step = 0; step < greedy.tokens.length; step++) {
        const next = argmax(logits);
        generated.push(next);
        if (next !== greedy.tokens[step]) {
          // Only a near-tie may go the other way (expected.json's rule); the rest then diverges.
          expect(greedy.margins[step], `step ${step} picked ${next}, expected ${greedy.tokens[step]}`).toBeLessThan(
            tolerances.greedy_near_tie_margin,
          );
          break;
        }
        const logProb = logSoftmax(logits)[next] as number;
        expect(Math.abs(logProb - (greedy.logprobs[step] as number))).toBeLessThanOrEqual(tolerances.logprob_atol);
        logits = await model.forward([[next]], tokens.length + step);
      }
      expect(generated).toEqual(greedy.tokens.slice(0, generated.length));
    });
  });
});

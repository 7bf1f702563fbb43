// Llama 1/2 checkpoints: Meta's params.json as shipped (vocab_size -1, no rope_theta, no n_kv_heads),
// Hugging Face Llama 2 configs, and a whole Llama-2-layout checkpoint against a float64 reference
// with RoPE theta 10000.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '@llama-ts/kernels';
import { randomLlamaTensors, referenceLogits } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHFConfig } from '../src/checkpoint/hf-config.js';
import { argsFromHF, argsFromMetaParams, loadModel, ModelError, writePthCheckpoint } from '../src/index.js';

/** params.json of Meta's Llama 2 downloads, byte for byte in content. */
const LLAMA2_7B = { dim: 4096, multiple_of: 256, n_heads: 32, n_layers: 32, norm_eps: 1e-5, vocab_size: -1 };
const LLAMA2_13B = { dim: 5120, multiple_of: 256, n_heads: 40, n_layers: 40, norm_eps: 1e-5, vocab_size: -1 };
const LLAMA2_70B = {
  dim: 8192,
  multiple_of: 4096,
  ffn_dim_multiplier: 1.3,
  n_heads: 64,
  n_kv_heads: 8,
  n_layers: 80,
  norm_eps: 1e-5,
  vocab_size: -1,
};
/** LLaMA 1's 7B: the same layout with norm_eps 1e-6. */
const LLAMA1_7B = { dim: 4096, multiple_of: 256, n_heads: 32, n_layers: 32, norm_eps: 1e-6, vocab_size: -1 };

describe("Meta's Llama 1/2 params.json", () => {
  it.each([
    ['Llama 2 7B', LLAMA2_7B, { ffnHiddenDim: 11008, nKvHeads: 32, normEps: 1e-5 }],
    ['Llama 2 13B', LLAMA2_13B, { ffnHiddenDim: 13824, nKvHeads: 40, normEps: 1e-5 }],
    ['Llama 2 70B (GQA, ffn_dim_multiplier)', LLAMA2_70B, { ffnHiddenDim: 28672, nKvHeads: 8, normEps: 1e-5 }],
    ['LLaMA 7B', LLAMA1_7B, { ffnHiddenDim: 11008, nKvHeads: 32, normEps: 1e-6 }],
  ])('%s: vocabulary from the tokenizer, theta 10000, family llama2', (_, params, expected) => {
    const args = argsFromMetaParams(params, { vocabSize: 32000, maxSeqLen: 4096 });
    expect(args).toMatchObject({ ...expected, vocabSize: 32000, ropeTheta: 10000, family: 'llama2' });
    expect(args.ropeScaling).toBeUndefined();
  });

  it('needs the tokenizer when vocab_size is -1', () => {
    expect(() => argsFromMetaParams(LLAMA2_7B)).toThrow(
      new ModelError(
        'params.json: field "vocab_size" is -1 (Llama 1/2: the vocabulary size comes from the tokenizer), and no tokenizer was given',
      ),
    );
  });

  it("takes the tokenizer's family over the checkpoint's guess, and a stated rope_theta over both", () => {
    const noTheta = { dim: 64, n_layers: 1, n_heads: 4, vocab_size: 100 };
    expect(argsFromMetaParams(noTheta)).toMatchObject({ family: 'llama3', ropeTheta: 500000 });
    expect(argsFromMetaParams(noTheta, { family: 'llama2' })).toMatchObject({ family: 'llama2', ropeTheta: 10000 });
    // Code Llama states its theta.
    const codeLlama = { ...LLAMA2_7B, ffn_dim_multiplier: 1.0, rope_theta: 1000000, vocab_size: 32016 };
    expect(argsFromMetaParams(codeLlama, { family: 'llama2' })).toMatchObject({
      ropeTheta: 1000000,
      vocabSize: 32016,
      ffnHiddenDim: 11008,
    });
  });
});

describe('Hugging Face Llama 2 config.json', () => {
  // meta-llama/Llama-2-7b-hf's config, as published.
  const config = {
    architectures: ['LlamaForCausalLM'],
    bos_token_id: 1,
    eos_token_id: 2,
    hidden_act: 'silu',
    hidden_size: 4096,
    initializer_range: 0.02,
    intermediate_size: 11008,
    max_position_embeddings: 4096,
    model_type: 'llama',
    num_attention_heads: 32,
    num_hidden_layers: 32,
    num_key_value_heads: 32,
    pad_token_id: 0,
    pretraining_tp: 1,
    rms_norm_eps: 1e-5,
    rope_scaling: null,
    tie_word_embeddings: false,
    torch_dtype: 'float16',
    transformers_version: '4.31.0.dev0',
    use_cache: true,
    vocab_size: 32000,
  };

  it('reads theta 10000 (no rope_theta) and says llama2', () => {
    const args = argsFromHF(parseHFConfig(config, 'config.json'));
    expect(args).toMatchObject({
      vocabSize: 32000,
      ffnHiddenDim: 11008,
      nKvHeads: 32,
      ropeTheta: 10000,
      ropeLayout: 'half',
      family: 'llama2',
    });
    expect(argsFromHF(parseHFConfig({ ...config, rope_theta: 500000.0 }, 'config.json')).family).toBe('llama3');
  });
});

describe('a Llama-2-layout checkpoint against a float64 reference', () => {
  // Meta's params.json fields and layout, small sizes: MHA (no n_kv_heads), vocab_size -1, no rope_theta.
  const params = { dim: 64, multiple_of: 32, n_heads: 4, n_layers: 2, norm_eps: 1e-5, vocab_size: -1 };
  const vocabSize = 96;
  const sizes = { dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 4, vocabSize, ffnHiddenDim: 192 };
  const tokens = [1, 17, 42, 5, 88, 23, 64, 9, 31, 77, 2, 50, 13, 91, 36, 70];
  const tensors = randomLlamaTensors(sizes, 7);
  const weights = new Map(tensors.map((t) => [t.name, t.values]));
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llama-ts-llama2-'));
    await writeFile(join(dir, 'params.json'), JSON.stringify(params));
    await writePthCheckpoint(
      join(dir, 'consolidated.00.pth'),
      tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: 'f32', data: new Uint8Array(t.values.buffer) })),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('loads with the vocabulary from the tokenizer and matches the reference with theta 10000', async () => {
    const backend = await createBackend({ kind: 'cpu' });
    const model = await loadModel(dir, { backend, vocabSize, maxSeqLen: 32 });
    try {
      expect(model.args).toMatchObject({ ...sizes, ropeTheta: 10000, family: 'llama2', ffnHiddenDim: 192 });
      const logits = await model.forward([tokens], 0, { logits: 'all' });
      const expected = referenceLogits(weights, { ...sizes, normEps: 1e-5, ropeTheta: 10000 }, tokens);
      const wrongTheta = referenceLogits(weights, { ...sizes, normEps: 1e-5, ropeTheta: 500000 }, tokens);
      let worst = 0;
      let thetaMatters = 0;
      expected.forEach((row, t) => {
        row.forEach((value, i) => {
          const got = logits[t * vocabSize + i] as number;
          worst = Math.max(worst, Math.abs(got - value));
          thetaMatters = Math.max(thetaMatters, Math.abs((wrongTheta[t]?.[i] as number) - value));
        });
      });
      // f32 kernels against float64: 2.6e-7 measured here.
      expect(worst).toBeLessThan(1e-3);
      // The check has teeth: Llama 3's default theta would be far off.
      expect(thetaMatters).toBeGreaterThan(0.05);
    } finally {
      model.dispose();
      backend.destroy();
    }
  });

  it('refuses the folder without the vocabulary size', async () => {
    await expect(loadModel(dir, { backend: 'cpu' })).rejects.toThrow(/field "vocab_size" is -1/);
  });
});

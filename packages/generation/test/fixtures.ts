import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, loadModel, writePthCheckpoint } from '@llama-ts/model';
import { randomLlamaTensors, readSharedJson, sharedPath } from '@llama-ts/test-support';
import { idTokenizer, Llama } from '../src/index.js';

export interface GoldenExpected {
  tokens: number[];
  prompt_logprobs: number[];
  greedy: { tokens: number[]; margins: number[]; logprobs: number[] };
  tolerances: { logprob_atol: number; greedy_near_tie_margin: number };
}

export const golden = readSharedJson<GoldenExpected>('golden', 'tiny-meta-bf16', 'expected.json');

export async function goldenLlama(
  backend: Backend,
  options: { stopTokens?: number[]; maxSeqLen?: number; maxBatchSize?: number } = {},
): Promise<Llama> {
  const model = await loadModel(sharedPath('golden', 'tiny-meta-bf16'), {
    backend,
    maxSeqLen: options.maxSeqLen ?? 64,
    maxBatchSize: options.maxBatchSize ?? 4,
  });
  return new Llama(model, idTokenizer(model.args.vocabSize, options.stopTokens));
}

/** Seeded normal samples (Box–Muller over mulberry32). */
function normals(count: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++)
    out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) * scale;
  return out;
}

/**
 * A random model with Llama 3's real vocabulary (128256), small enough for the CPU backend, written
 * as a Meta checkpoint (f32). The output matrix is scaled so logits spread widely: greedy choices
 * then have clear margins, and float rounding cannot flip them between two equivalent runs.
 */
export async function randomLlama3Checkpoint(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-ts-random-llama3-'));
  const params = {
    dim: 64,
    n_layers: 2,
    n_heads: 4,
    n_kv_heads: 2,
    vocab_size: 128256,
    multiple_of: 32,
    norm_eps: 1e-5,
    rope_theta: 500000,
  };
  await writeFile(join(dir, 'params.json'), JSON.stringify(params));
  const hidden = 192;
  const shapes: [string, number[], number][] = [
    ['tok_embeddings.weight', [128256, 64], 1],
    ['norm.weight', [64], 0],
    ['output.weight', [128256, 64], 4],
  ];
  for (let i = 0; i < 2; i++) {
    shapes.push(
      [`layers.${i}.attention_norm.weight`, [64], 0],
      [`layers.${i}.attention.wq.weight`, [64, 64], 0.125],
      [`layers.${i}.attention.wk.weight`, [32, 64], 0.125],
      [`layers.${i}.attention.wv.weight`, [32, 64], 0.125],
      [`layers.${i}.attention.wo.weight`, [64, 64], 0.125],
      [`layers.${i}.ffn_norm.weight`, [64], 0],
      [`layers.${i}.feed_forward.w1.weight`, [hidden, 64], 0.125],
      [`layers.${i}.feed_forward.w2.weight`, [64, hidden], 0.07],
      [`layers.${i}.feed_forward.w3.weight`, [hidden, 64], 0.125],
    );
  }
  await writePthCheckpoint(
    join(dir, 'consolidated.00.pth'),
    shapes.map(([name, shape, scale], i) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = scale === 0 ? new Float32Array(size).fill(1) : normals(size, i + 1, scale);
      return { name, shape, dtype: 'f32' as const, data: new Uint8Array(values.buffer) };
    }),
  );
  return dir;
}

export const LLAMA3_TOKENIZER = sharedPath('data', 'llama3', 'tokenizer.model');

export const SENTENCEPIECE_TOKENIZER = sharedPath('data', 'sentencepiece', 'shakespeare-bpe-4k.model');

/**
 * A random model in Llama 2's layout: Meta's params.json fields as shipped (vocab_size -1, no
 * rope_theta, no n_kv_heads), f32 weights from test-support's randomLlamaTensors, and beside them the
 * SentencePiece tokenizer of ../shared (4096 pieces) as `tokenizer.model`, as a Llama 2 folder holds it.
 */
export async function randomLlama2Checkpoint(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-ts-random-llama2-'));
  const params = { dim: 64, multiple_of: 32, n_heads: 4, n_layers: 2, norm_eps: 1e-5, vocab_size: -1 };
  await writeFile(join(dir, 'params.json'), JSON.stringify(params));
  const sizes = { dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 4, vocabSize: 4096, ffnHiddenDim: 192 };
  await writePthCheckpoint(
    join(dir, 'consolidated.00.pth'),
    randomLlamaTensors(sizes, 3).map((t) => ({
      name: t.name,
      shape: t.shape,
      dtype: 'f32' as const,
      data: new Uint8Array(t.values.buffer),
    })),
  );
  await copyFile(SENTENCEPIECE_TOKENIZER, join(dir, 'tokenizer.model'));
  return dir;
}

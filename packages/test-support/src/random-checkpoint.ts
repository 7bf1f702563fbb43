import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sentencePieceTokenizerPath } from './golden.js';
import { seededRandom } from './random.js';

/** The sizes of a Llama whose weights randomLlamaTensors makes (Meta's tensor names and layout). */
export interface RandomLlamaSizes {
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  ffnHiddenDim: number;
}

/** One tensor of a random checkpoint, f32, row-major. */
export interface RandomTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/**
 * Seeded random weights for a whole Llama, named and shaped as Meta's `consolidated.00.pth` holds them,
 * for tests that write a checkpoint (with @llama-ts/model's writer) and compare the model with a
 * reference. Matrices are uniform in ±scale/√fan-in, with query and key rows three times larger so
 * attention is sharp enough for positions (RoPE) to matter; norms are near 1.
 */
export function randomLlamaTensors(sizes: RandomLlamaSizes, seed = 1): RandomTensor[] {
  const random = seededRandom(seed);
  const headDim = sizes.dim / sizes.nHeads;
  const tensors: RandomTensor[] = [];
  const matrix = (name: string, rows: number, cols: number, scale = 1) => {
    const bound = scale / Math.sqrt(cols);
    const values = Float32Array.from({ length: rows * cols }, () => (2 * random() - 1) * bound);
    tensors.push({ name, shape: [rows, cols], values });
  };
  const norm = (name: string) => {
    tensors.push({
      name,
      shape: [sizes.dim],
      values: Float32Array.from({ length: sizes.dim }, () => 0.8 + 0.4 * random()),
    });
  };
  matrix('tok_embeddings.weight', sizes.vocabSize, sizes.dim, Math.sqrt(sizes.dim));
  for (let layer = 0; layer < sizes.nLayers; layer++) {
    const p = `layers.${layer}`;
    matrix(`${p}.attention.wq.weight`, sizes.nHeads * headDim, sizes.dim, 3);
    matrix(`${p}.attention.wk.weight`, sizes.nKvHeads * headDim, sizes.dim, 3);
    matrix(`${p}.attention.wv.weight`, sizes.nKvHeads * headDim, sizes.dim);
    matrix(`${p}.attention.wo.weight`, sizes.dim, sizes.nHeads * headDim);
    matrix(`${p}.feed_forward.w1.weight`, sizes.ffnHiddenDim, sizes.dim);
    matrix(`${p}.feed_forward.w2.weight`, sizes.dim, sizes.ffnHiddenDim);
    matrix(`${p}.feed_forward.w3.weight`, sizes.ffnHiddenDim, sizes.dim);
    norm(`${p}.attention_norm.weight`);
    norm(`${p}.ffn_norm.weight`);
  }
  norm('norm.weight');
  matrix('output.weight', sizes.vocabSize, sizes.dim);
  return tensors;
}

/** One f32 tensor as @llama-ts/model's `writePthCheckpoint` takes it. */
export interface F32TensorToWrite {
  name: string;
  shape: number[];
  dtype: 'f32';
  data: Uint8Array;
}

/**
 * Writes a Meta `.pth` shard: pass @llama-ts/model's `writePthCheckpoint`. It is a parameter
 * because test-support cannot depend on the model package (model's tests depend on test-support).
 */
export type PthWriter = (path: string, tensors: F32TensorToWrite[]) => Promise<unknown>;

/**
 * Seeded normal samples (Box–Muller over mulberry32). The half-step offset keeps the uniform sample
 * off 0, whose log would be -Infinity (the sum is exact in doubles).
 */
function normals(count: number, seed: number, scale: number): Float32Array {
  const random = seededRandom(seed);
  const uniform = () => random() + 0.5 / 2 ** 32;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++)
    out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) * scale;
  return out;
}

const LLAMA3_VOCAB = 128256;
const DIM = 64;
const N_LAYERS = 2;
const KV_DIM = 32; // 2 kv heads of head_dim 16
const HIDDEN = 192; // multiple_of 32 over 2/3 · 4 · dim

/**
 * A random model with Llama 3's real vocabulary (128256), small enough for the CPU backend, written
 * as a Meta checkpoint (f32) into a new temporary folder, whose path is returned. The output matrix
 * is scaled so logits spread widely: greedy choices then have clear margins, and float rounding
 * cannot flip them between two equivalent runs. The weights are the same on every call.
 *
 * `tokenizer`: a `tokenizer.model` to copy into the folder, so that it opens without a separate
 * tokenizer path.
 */
export async function writeRandomLlama3Checkpoint(
  writePth: PthWriter,
  options: { tokenizer?: string } = {},
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-ts-random-llama3-'));
  const params = {
    dim: DIM,
    n_layers: N_LAYERS,
    n_heads: 4,
    n_kv_heads: 2,
    vocab_size: LLAMA3_VOCAB,
    multiple_of: 32,
    norm_eps: 1e-5,
    rope_theta: 500000,
  };
  await writeFile(join(dir, 'params.json'), JSON.stringify(params));
  const shapes: [string, number[], number][] = [
    ['tok_embeddings.weight', [LLAMA3_VOCAB, DIM], 1],
    ['norm.weight', [DIM], 0],
    ['output.weight', [LLAMA3_VOCAB, DIM], 4],
  ];
  for (let i = 0; i < N_LAYERS; i++) {
    shapes.push(
      [`layers.${i}.attention_norm.weight`, [DIM], 0],
      [`layers.${i}.attention.wq.weight`, [DIM, DIM], 0.125],
      [`layers.${i}.attention.wk.weight`, [KV_DIM, DIM], 0.125],
      [`layers.${i}.attention.wv.weight`, [KV_DIM, DIM], 0.125],
      [`layers.${i}.attention.wo.weight`, [DIM, DIM], 0.125],
      [`layers.${i}.ffn_norm.weight`, [DIM], 0],
      [`layers.${i}.feed_forward.w1.weight`, [HIDDEN, DIM], 0.125],
      [`layers.${i}.feed_forward.w2.weight`, [DIM, HIDDEN], 0.07],
      [`layers.${i}.feed_forward.w3.weight`, [HIDDEN, DIM], 0.125],
    );
  }
  // A scale of 0 marks a norm weight: all ones, as a fresh RMSNorm.
  await writePth(
    join(dir, 'consolidated.00.pth'),
    shapes.map(([name, shape, scale], i) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = scale === 0 ? new Float32Array(size).fill(1) : normals(size, i + 1, scale);
      return { name, shape, dtype: 'f32' as const, data: new Uint8Array(values.buffer) };
    }),
  );
  if (options.tokenizer) await copyFile(options.tokenizer, join(dir, 'tokenizer.model'));
  return dir;
}

/**
 * A random model in Llama 2's layout, written as a Meta checkpoint (f32) into a new temporary folder,
 * whose path is returned: Meta's params.json fields as shipped (vocab_size -1, no rope_theta, no
 * n_kv_heads), weights from randomLlamaTensors(…, `seed`), and beside them the SentencePiece
 * tokenizer of ../shared (4096 pieces) as `tokenizer.model`, as a Llama 2 folder holds it.
 */
export async function writeRandomLlama2Checkpoint(
  writePth: PthWriter,
  options: { seed?: number } = {},
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-ts-random-llama2-'));
  const params = { dim: 64, multiple_of: 32, n_heads: 4, n_layers: 2, norm_eps: 1e-5, vocab_size: -1 };
  await writeFile(join(dir, 'params.json'), JSON.stringify(params));
  const sizes = { dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 4, vocabSize: 4096, ffnHiddenDim: 192 };
  await writePth(
    join(dir, 'consolidated.00.pth'),
    randomLlamaTensors(sizes, options.seed ?? 1).map((t) => ({
      name: t.name,
      shape: t.shape,
      dtype: 'f32' as const,
      data: new Uint8Array(t.values.buffer),
    })),
  );
  await copyFile(sentencePieceTokenizerPath(), join(dir, 'tokenizer.model'));
  return dir;
}

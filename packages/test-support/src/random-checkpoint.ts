import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

// The golden tiny Meta checkpoint rewritten as GGUF files by our writer, for the GGUF tests.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bf16ToF32 } from '@llama-ts/kernels';
import { readSharedJson, sharedPath } from '@llama-ts/test-support';
import {
  type GGMLEncodableType,
  ggufValue,
  type LlamaGGUFToWrite,
  type ModelArgs,
  openCheckpoint,
  writeGGUF,
  writeLlamaGGUF,
  writePthCheckpoint,
} from '../src/index.js';

export const goldenDir = sharedPath('golden', 'tiny-meta-bf16');
export const goldenExpected = readSharedJson<{ tokens: number[]; prompt_logprobs: number[] }>(
  'golden',
  'tiny-meta-bf16',
  'expected.json',
);

export interface GoldenModel {
  args: ModelArgs;
  tensors: { name: string; shape: number[]; values: Float32Array }[];
}

/** The golden checkpoint's args and weights as f32 (bf16 widens exactly). */
export async function readGoldenModel(): Promise<GoldenModel> {
  const { args, reader } = await openCheckpoint(goldenDir);
  try {
    const tensors = [];
    for (const tensor of reader.tensors) {
      const bytes = await tensor.read();
      const bits = new Uint16Array(bytes.slice().buffer);
      tensors.push({ name: tensor.name, shape: tensor.shape, values: bf16ToF32(bits) });
    }
    return { args, tensors };
  } finally {
    await reader.close();
  }
}

export function ggufParams(args: ModelArgs, contextLength = 64): LlamaGGUFToWrite['params'] {
  return {
    dim: args.dim,
    nLayers: args.nLayers,
    nHeads: args.nHeads,
    nKvHeads: args.nKvHeads,
    ffnHiddenDim: args.ffnHiddenDim,
    vocabSize: args.vocabSize,
    normEps: args.normEps,
    ropeTheta: args.ropeTheta,
    contextLength,
  };
}

/** Writes the golden model as `<dir>/<name>.gguf` with its matrices in `type`. */
export async function writeGoldenGGUF(
  dir: string,
  name: string,
  model: GoldenModel,
  options: Omit<LlamaGGUFToWrite, 'params' | 'tensors'> & { type?: GGMLEncodableType } = {},
): Promise<string> {
  const path = join(dir, `${name}.gguf`);
  await writeLlamaGGUF(path, { params: ggufParams(model.args), tensors: model.tensors, ...options });
  return path;
}

/** log_softmax(logits[t])[tokens[t + 1]] for every prompt position. */
export function promptLogProbs(logits: Float32Array, tokens: readonly number[], vocab: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < tokens.length - 1; t++) {
    const row = logits.subarray(t * vocab, (t + 1) * vocab);
    let max = Number.NEGATIVE_INFINITY;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    out.push((row[tokens[t + 1] as number] as number) - (Math.log(sum) + max));
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

/**
 * A one-layer model whose token embedding is `rows × columns` of ggml `type` bytes (everything
 * else zero), so a tensor type can be read through the whole loader.
 */
export async function writeEmbeddingModel(
  path: string,
  type: string,
  data: Uint8Array,
  rows: number,
  columns: number,
): Promise<void> {
  const zeros = (shape: number[]) => ({
    shape,
    type: 'F32',
    data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * 4),
  });
  await writeGGUF(path, {
    metadata: {
      'general.architecture': ggufValue.string('llama'),
      'llama.embedding_length': ggufValue.u32(columns),
      'llama.block_count': ggufValue.u32(1),
      'llama.feed_forward_length': ggufValue.u32(32),
      'llama.attention.head_count': ggufValue.u32(1),
      'llama.attention.layer_norm_rms_epsilon': ggufValue.f32(1e-5),
    },
    tensors: [
      { name: 'token_embd.weight', shape: [rows, columns], type, data },
      ...Object.entries({
        'blk.0.attn_norm.weight': [columns],
        'blk.0.attn_q.weight': [columns, columns],
        'blk.0.attn_k.weight': [columns, columns],
        'blk.0.attn_v.weight': [columns, columns],
        'blk.0.attn_output.weight': [columns, columns],
        'blk.0.ffn_norm.weight': [columns],
        'blk.0.ffn_gate.weight': [32, columns],
        'blk.0.ffn_up.weight': [32, columns],
        'blk.0.ffn_down.weight': [columns, 32],
        'output_norm.weight': [columns],
      }).map(([name, shape]) => ({ name, ...zeros(shape) })),
    ],
  });
}

/** The golden weights as an f32 Meta checkpoint folder with `extraParams` in its params.json. */
export async function writeMetaFromGolden(
  dir: string,
  model: GoldenModel,
  extraParams: Record<string, unknown>,
): Promise<string> {
  const folder = await mkdtemp(join(dir, 'meta-'));
  const params = readSharedJson<Record<string, unknown>>('golden', 'tiny-meta-bf16', 'params.json');
  await writeFile(join(folder, 'params.json'), JSON.stringify({ ...params, ...extraParams }));
  await writePthCheckpoint(
    join(folder, 'consolidated.00.pth'),
    model.tensors.map((t) => ({
      name: t.name,
      shape: t.shape,
      dtype: 'f32' as const,
      data: new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength),
    })),
  );
  return folder;
}

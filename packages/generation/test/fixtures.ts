import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Backend,
  type GGUFMetadataToWrite,
  GGUFValueType,
  ggufValue,
  loadModel,
  openCheckpoint,
  writeLlamaGGUF,
  writePthCheckpoint,
} from '@llama-ts/model';
import { readSharedJson, sharedPath } from '@llama-ts/test-support';
import { byteLevelVocabularyFromRanks } from '@llama-ts/tokenizer';
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

/** Meta-Llama-3-8B-Instruct's tokenizer.chat_template. */
export const LLAMA3_CHAT_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

/** Llama 2 chat's template (abridged: the markers are what is recognised). */
export const LLAMA2_CHAT_TEMPLATE =
  "{% for message in messages %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";

let vocabulary: ReturnType<typeof byteLevelVocabularyFromRanks> | undefined;

/** Llama 3's vocabulary as a GGUF stores it (tokenizer.ggml.*), built from tokenizer.model. */
export function llama3TokenizerMetadata(overrides: GGUFMetadataToWrite = {}): GGUFMetadataToWrite {
  vocabulary ??= byteLevelVocabularyFromRanks(readFileSync(LLAMA3_TOKENIZER, 'utf8'), LLAMA3_TOKENIZER);
  return {
    'tokenizer.ggml.model': ggufValue.string('gpt2'),
    'tokenizer.ggml.pre': ggufValue.string('llama-bpe'),
    'tokenizer.ggml.tokens': ggufValue.array(GGUFValueType.STRING, vocabulary.tokens),
    'tokenizer.ggml.token_type': ggufValue.array(GGUFValueType.INT32, vocabulary.tokenTypes),
    'tokenizer.ggml.merges': ggufValue.array(GGUFValueType.STRING, vocabulary.merges),
    'tokenizer.ggml.bos_token_id': ggufValue.u32(128000),
    'tokenizer.ggml.eos_token_id': ggufValue.u32(128009),
    'tokenizer.ggml.add_bos_token': ggufValue.bool(true),
    'tokenizer.chat_template': ggufValue.string(LLAMA3_CHAT_TEMPLATE),
    ...overrides,
  };
}

/** A Meta checkpoint folder rewritten as a GGUF file with `metadata` (a tokenizer's, say). */
export async function ggufFromCheckpoint(
  dir: string,
  metadata: GGUFMetadataToWrite,
  type: 'F32' | 'Q8_0' = 'F32',
): Promise<string> {
  const { args, reader } = await openCheckpoint(dir);
  const tensors = [];
  for (const tensor of reader.tensors) {
    const bytes = (await tensor.read()).slice();
    tensors.push({ name: tensor.name, shape: tensor.shape, values: new Float32Array(bytes.buffer) });
  }
  await reader.close();
  const path = join(await mkdtemp(join(tmpdir(), 'llama-ts-gguf-')), 'model.gguf');
  await writeLlamaGGUF(path, {
    params: { ...args, contextLength: 8192 },
    tensors,
    type,
    metadata,
  });
  return path;
}

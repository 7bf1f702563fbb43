import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
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
import {
  goldenDir,
  goldenExpected,
  llama3TokenizerPath,
  sentencePieceTokenizerPath,
  writeRandomLlama2Checkpoint,
  writeRandomLlama3Checkpoint,
} from '@llama-ts/test-support';
import { byteLevelVocabularyFromRanks } from '@llama-ts/tokenizer';
import { idTokenizer, Llama } from '../src/index.js';

export const golden = goldenExpected('tiny-meta-bf16');

export async function goldenLlama(
  backend: Backend,
  options: { stopTokens?: number[]; maxSeqLen?: number; maxBatchSize?: number } = {},
): Promise<Llama> {
  const model = await loadModel(goldenDir('tiny-meta-bf16'), {
    backend,
    maxSeqLen: options.maxSeqLen ?? 64,
    maxBatchSize: options.maxBatchSize ?? 4,
  });
  return new Llama(model, idTokenizer(model.args.vocabSize, options.stopTokens));
}

/** test-support's random Llama 3-vocabulary checkpoint, written with @llama-ts/model's .pth writer. */
export function randomLlama3Checkpoint(): Promise<string> {
  return writeRandomLlama3Checkpoint(writePthCheckpoint);
}

export const LLAMA3_TOKENIZER = llama3TokenizerPath();

export const SENTENCEPIECE_TOKENIZER = sentencePieceTokenizerPath();

/** test-support's random Llama 2-layout checkpoint (seed 3) with the SentencePiece tokenizer beside it. */
export function randomLlama2Checkpoint(): Promise<string> {
  return writeRandomLlama2Checkpoint(writePthCheckpoint, { seed: 3 });
}

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

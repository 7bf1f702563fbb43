import { type Backend, loadModel, writePthCheckpoint } from '@llama-ts/model';
import {
  goldenDir,
  goldenExpected,
  llama3TokenizerPath,
  sentencePieceTokenizerPath,
  writeRandomLlama2Checkpoint,
  writeRandomLlama3Checkpoint,
} from '@llama-ts/test-support';
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

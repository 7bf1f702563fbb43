import { readSharedJson, sharedPath } from './shared.js';

/** The golden checkpoints in shared/golden: the same tiny model as a Meta and a Hugging Face folder. */
export const GOLDEN_CHECKPOINTS = ['tiny-meta-bf16', 'tiny-hf-f16'] as const;
export type GoldenCheckpoint = (typeof GOLDEN_CHECKPOINTS)[number];

/** What a golden checkpoint's expected.json holds (computed by an independent float64 reference). */
export interface GoldenExpected {
  tokens: number[];
  prompt_logprobs: number[];
  top5_ids: number[][];
  top5_logits: number[][];
  greedy: { tokens: number[]; margins: number[]; logprobs: number[] };
  tolerances: { logprob_atol: number; greedy_near_tie_margin: number };
}

/** Absolute path of a golden checkpoint folder. */
export function goldenDir(name: GoldenCheckpoint): string {
  return sharedPath('golden', name);
}

export function goldenExpected(name: GoldenCheckpoint): GoldenExpected {
  return readSharedJson<GoldenExpected>('golden', name, 'expected.json');
}

/** Llama 3's tokenizer.model (tiktoken ranks). */
export function llama3TokenizerPath(): string {
  return sharedPath('data', 'llama3', 'tokenizer.model');
}

import type { SamplingOptions } from '@llama-ts/generation';
import type { Command } from 'commander';
import { finiteNumber, nonNegativeInt, positiveInt } from './model-flags.js';

export interface SamplingFlags {
  maxGenLen?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  minP?: number;
  repetitionPenalty?: number;
}

export function addSamplingFlags(command: Command): Command {
  return command
    .option(
      '--max-gen-len <n>',
      'tokens to generate at most (default: the context length - 1; with --no-context-shift, no more than the context holds)',
      nonNegativeInt,
    )
    .option('--temperature <t>', 'softmax temperature; 0 is greedy (default 0.6)', finiteNumber)
    .option('--top-p <p>', 'nucleus sampling mass (default 0.9)', finiteNumber)
    .option('--top-k <k>', 'keep only the k most likely tokens', positiveInt)
    .option('--min-p <p>', 'drop tokens less likely than p times the most likely one', finiteNumber)
    .option('--repetition-penalty <x>', 'penalize recent tokens (1 is off)', finiteNumber);
}

/** The generation options the flags give (unset ones keep the package defaults). */
export function samplingOptions(flags: SamplingFlags): SamplingOptions & { maxGenLen?: number } {
  const options: SamplingOptions & { maxGenLen?: number } = {};
  if (flags.maxGenLen !== undefined) options.maxGenLen = flags.maxGenLen;
  if (flags.temperature !== undefined) options.temperature = flags.temperature;
  if (flags.topP !== undefined) options.topP = flags.topP;
  if (flags.topK !== undefined) options.topK = flags.topK;
  if (flags.minP !== undefined) options.minP = flags.minP;
  if (flags.repetitionPenalty !== undefined) options.repetitionPenalty = flags.repetitionPenalty;
  return options;
}

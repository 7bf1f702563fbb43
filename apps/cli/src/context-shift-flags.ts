import type { ContextShiftOptions } from '@llama-ts/generation';
import type { Command } from 'commander';
import { CliError } from './errors.js';
import { nonNegativeInt } from './model-flags.js';

/** --context-shift / --no-context-shift and --keep, as commander parses them. */
export interface ContextShiftFlags {
  /** Undefined unless given: the CLI shifts by default. */
  contextShift?: boolean;
  keep?: number;
}

/** Generation past the context, on by default in the CLI (the library stops at the context, as the reference). */
export function addContextShiftFlags(command: Command, keepDefault: string): Command {
  return command
    .option(
      '--context-shift',
      'when the context is full, drop the older half of the tokens after --keep and go on (the default)',
    )
    .option('--no-context-shift', 'stop at the context (--max-seq-len), as the reference does')
    .option(
      '--keep <n>',
      `tokens at the start that a context shift never drops (default: ${keepDefault})`,
      nonNegativeInt,
    );
}

/** The `contextShift` generation option the flags give (ContextShiftOptions: keep the package's default keep unless --keep). */
export function contextShiftOption(flags: ContextShiftFlags): { contextShift: false | ContextShiftOptions } {
  if (flags.contextShift === false) {
    if (flags.keep !== undefined)
      throw new CliError('--keep is for the context shift; it cannot go with --no-context-shift');
    return { contextShift: false };
  }
  return { contextShift: flags.keep !== undefined ? { keep: flags.keep } : {} };
}

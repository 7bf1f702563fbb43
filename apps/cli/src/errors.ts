import { GenerationError } from '@llama-ts/generation';
import { KernelError } from '@llama-ts/kernels';
import { ModelError } from '@llama-ts/model';
import { TokenizerError } from '@llama-ts/tokenizer/node';
import { TrainingError } from '@llama-ts/training';
import { CommanderError } from 'commander';

/** Bad input found by the CLI itself (flags, files, ids): reported as one line, exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

/** Errors whose message is meant for the user: the packages' input errors and ours. */
export function isUserError(error: unknown): error is Error {
  return (
    error instanceof CliError ||
    error instanceof GenerationError ||
    error instanceof ModelError ||
    error instanceof TokenizerError ||
    error instanceof TrainingError ||
    error instanceof KernelError
  );
}

/** One line: the message without a stack, newlines folded. */
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return oneLine(error.message);
  return oneLine(String(error));
}

/**
 * Reports an error as `llama-ts: message` on stderr and sets a non-zero exit code. Unexpected
 * errors also print their stack when LLAMA_TS_DEBUG is set.
 */
export function reportError(error: unknown): void {
  if (error instanceof CommanderError) {
    // Commander already printed its message (or the help); only the exit code is left.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
    return;
  }
  const known = isUserError(error) || (error as NodeJS.ErrnoException)?.code !== undefined;
  process.stderr.write(`llama-ts: ${errorMessage(error)}\n`);
  if (!known && process.env.LLAMA_TS_DEBUG && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
  process.exitCode = 1;
}

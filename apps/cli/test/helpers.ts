import { fileURLToPath } from 'node:url';
import { writePthCheckpoint } from '@llama-ts/model';
import {
  llama3TokenizerPath,
  type ProcessResult,
  runProcess,
  writeRandomLlama3Checkpoint,
} from '@llama-ts/test-support';

/** The built CLI (turbo builds it before the tests). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export const LLAMA3_TOKENIZER = llama3TokenizerPath();

/** Runs the built CLI with a time limit; stdin is closed (or given `input`). */
export function runCli(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [CLI, ...args], {
    what: `llama-ts ${args.join(' ')}`,
    timeoutMs: options.timeoutMs ?? 60_000,
    input: options.input,
  });
}

/** test-support's random Llama 3-vocabulary checkpoint, written with @llama-ts/model's .pth writer. */
export function randomLlama3Checkpoint(): Promise<string> {
  return writeRandomLlama3Checkpoint(writePthCheckpoint);
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writePthCheckpoint } from '@llama-ts/model';
import { llama3TokenizerPath, writeRandomLlama3Checkpoint } from '@llama-ts/test-support';

/** The built CLI (turbo builds it before the tests). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export const LLAMA3_TOKENIZER = llama3TokenizerPath();

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with a time limit; stdin is closed (or given `input`). */
export function runCli(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`llama-ts ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** test-support's random Llama 3-vocabulary checkpoint, written with @llama-ts/model's .pth writer. */
export function randomLlama3Checkpoint(): Promise<string> {
  return writeRandomLlama3Checkpoint(writePthCheckpoint);
}

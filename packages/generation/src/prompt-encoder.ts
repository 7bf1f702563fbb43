import { Worker } from 'node:worker_threads';
// The Node entry: the core entry loads tiktoken's WebAssembly at once (gigabytes of address space).
import { type Dialog, TokenizerError } from '@llama-ts/tokenizer/node';
import { GenerationError } from './errors.js';
import type { TokenizerSource } from './open-tokenizer.js';

/** A prompt for the worker: text (BOS as the Llama adds it) or a dialog in the Llama's chat format. */
export type EncodeJob = { id: number; kind: 'text'; text: string } | { id: number; kind: 'dialog'; dialog: Dialog };

export type EncodeReply =
  | { id: number; ids: Int32Array }
  | { id: number; error: { name: string; message: string } }
  | { id: number; unavailable: string };

/**
 * Prompts shorter than this (UTF-16 units, a dialog's contents summed) are encoded on the calling
 * thread: it takes well under a millisecond, less than a round trip to the worker. Longer ones go to
 * the worker, because BPE on a long run without spaces (CJK text) costs seconds per 100k characters.
 */
export const INLINE_ENCODE_LIMIT = 8192;

/** The built worker: dist/encode-worker.js beside this module, or the package's dist/ when running from src/. */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../dist/encode-worker.js', here) : new URL('./encode-worker.js', here);
}

/**
 * The parent's Node flags without export conditions: the worker is built JavaScript and must load
 * the other packages' built dist/ too, even when the parent resolves their TypeScript sources
 * (vitest and tsx run with `--conditions source`).
 */
function workerExecArgv(): string[] {
  const argv: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i] as string;
    if (arg === '--conditions' || arg === '-C') i++;
    else if (!arg.startsWith('--conditions=') && !arg.startsWith('-C=')) argv.push(arg);
  }
  return argv;
}

/** The worker's error as the error class the caller would have got on its own thread. */
function rebuildError(error: { name: string; message: string }): Error {
  if (error.name === 'TokenizerError') return new TokenizerError(error.message);
  if (error.name === 'GenerationError') return new GenerationError(error.message);
  return new Error(error.message);
}

/**
 * The worker could not run (it failed to start, say under an address-space limit that leaves no
 * room for a second tokenizer, or it died): the caller encodes on its own thread instead.
 */
export class EncoderUnavailableError extends Error {
  override name = 'EncoderUnavailableError';
}

export function promptLength(prompt: string | Dialog): number {
  return typeof prompt === 'string' ? prompt.length : prompt.reduce((sum, m) => sum + m.content.length, 0);
}

/**
 * Encodes long prompts on one worker thread that opens the same tokenizer (started on first use,
 * jobs in arrival order). It does not keep the process alive while idle.
 */
export class PromptEncoder {
  #worker: Worker | undefined;
  /** Why the worker is not used any more, once it has failed. */
  #unavailable: string | undefined;
  #nextId = 0;
  readonly #pending = new Map<number, { resolve: (ids: number[]) => void; reject: (error: Error) => void }>();

  constructor(private readonly source: TokenizerSource) {}

  encode(prompt: string | Dialog): Promise<number[]> {
    if (this.#unavailable) return Promise.reject(new EncoderUnavailableError(this.#unavailable));
    const id = this.#nextId++;
    const job: EncodeJob =
      typeof prompt === 'string' ? { id, kind: 'text', text: prompt } : { id, kind: 'dialog', dialog: prompt };
    const worker = this.#start();
    return new Promise<number[]>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage(job);
    });
  }

  /** Stops the worker; prompts still being encoded fail. */
  dispose(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll(new GenerationError('the prompt encoder was disposed'));
    void worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(workerUrl(), {
      workerData: this.source,
      execArgv: workerExecArgv(),
      name: 'llama-ts prompt encoder',
    });
    worker.on('message', (reply: EncodeReply) => {
      const job = this.#pending.get(reply.id);
      if (!job) return;
      this.#pending.delete(reply.id);
      if ('unavailable' in reply) {
        this.#unavailable = `the prompt encoder's worker cannot open the tokenizer: ${reply.unavailable}`;
        job.reject(new EncoderUnavailableError(this.#unavailable));
        void worker.terminate();
      } else if ('error' in reply) job.reject(rebuildError(reply.error));
      else job.resolve(Array.from(reply.ids));
      if (this.#pending.size === 0) worker.unref();
    });
    const lost = (why: string) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#unavailable = `the prompt encoder's worker ${why}`;
      this.#failAll(new EncoderUnavailableError(this.#unavailable));
    };
    worker.on('error', (error) => lost(`failed: ${error.message}`));
    worker.on('exit', (code) => lost(`exited (code ${code})`));
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #failAll(error: Error): void {
    for (const job of this.#pending.values()) job.reject(error);
    this.#pending.clear();
  }
}

import { rm } from 'node:fs/promises';
import { Llama } from '@llama-ts/generation';
import { afterAll, beforeAll } from 'vitest';
import { type RunningServer, startServer } from '../src/server/index.js';
import { LLAMA3_TOKENIZER, randomLlama3Checkpoint } from './helpers.js';

/**
 * A server on a small random Llama 3 checkpoint with the real Llama 3 tokenizer (cpu, 256
 * positions), started before the calling describe's tests and closed after them.
 */
export function useRandomLlama3Server(): { readonly url: string } {
  let server: RunningServer | undefined;
  let llama: Llama | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await randomLlama3Checkpoint();
    llama = await Llama.build({ ckptDir: dir, tokenizerPath: LLAMA3_TOKENIZER, backend: 'cpu', maxSeqLen: 256 });
    server = await startServer({ llama, modelName: 'random-llama3', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    llama?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get url() {
      if (!server) throw new Error('the random Llama 3 server is not started yet');
      return server.url;
    },
  };
}

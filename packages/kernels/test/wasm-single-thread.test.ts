// The wasm backend on one thread: without SharedArrayBuffer it falls back to one thread and says so
// once; asked for one thread, it starts no worker at all.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { add, fromArray } from '../src/node.js';
import { WasmBackend } from '../src/wasm/backend.js';
import type { SpawnWorker } from '../src/wasm/pool.js';

const run = promisify(execFile);

describe('the wasm backend on one thread', () => {
  it('runs without SharedArrayBuffer on one thread, saying so once (the built package)', async () => {
    const child = join(import.meta.dirname, 'fixtures', 'wasm-no-shared-memory-child.mjs');
    const { stdout, stderr } = await run(process.execPath, ['--no-harmony-sharedarraybuffer', child], {
      cwd: join(import.meta.dirname, '..'),
      timeout: 30_000,
    });
    expect(stdout.trim()).toBe('SharedArrayBuffer=undefined threads=1 sum=2,4,6,8,10 threads=1 sum=2,4,6,8,10');
    const said = stderr.split('\n').filter((line) => line.includes('the wasm backend runs on one thread'));
    expect(said).toEqual([
      'llama-ts: SharedArrayBuffer is unavailable (a page must be cross-origin isolated for it); the wasm backend runs on one thread',
    ]);
  });

  it('asked for one thread, starts no worker and says nothing', async () => {
    let spawned = 0;
    const spawn: SpawnWorker = () => {
      spawned++;
      throw new Error('no worker should be started for threads: 1');
    };
    const said: string[] = [];
    const backend = await WasmBackend.create(
      { spawn, defaultThreads: 4 },
      { threads: 1, minWorkPerThread: 1, log: (message) => said.push(message) },
    );
    try {
      expect(backend.threads).toBe(1);
      expect(backend.description).toMatch(/^WebAssembly (relaxed )?SIMD backend, 1 thread /);
      const x = fromArray(backend, [1, 2, 3], [3]);
      expect(Array.from(await add(x, x).toFloat32())).toEqual([2, 4, 6]);
      expect(spawned).toBe(0);
      expect(said).toEqual([]);
    } finally {
      backend.destroy();
    }
  });

  it('where workers cannot be started, runs on one thread and says why', async () => {
    const said: string[] = [];
    const backend = await WasmBackend.create(
      { spawn: undefined, defaultThreads: 4 },
      { minWorkPerThread: 1, log: (message) => said.push(message) },
    );
    try {
      expect(backend.threads).toBe(1);
      const x = fromArray(backend, [1, 2, 3], [3]);
      expect(Array.from(await add(x, x).toFloat32())).toEqual([2, 4, 6]);
      // Said at most once per process (another test file's backend may have said it first).
      expect(said.length).toBeLessThanOrEqual(1);
      for (const message of said) expect(message).toMatch(/cannot start workers; the wasm backend runs on one thread/);
    } finally {
      backend.destroy();
    }
  });
});

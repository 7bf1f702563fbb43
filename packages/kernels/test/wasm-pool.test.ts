// The wasm backend's thread pool: it never keeps a process alive, a kernel that fails on a worker
// and a worker that dies both give a clear error instead of a hang, and destroy() is final.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { add, createBackend, fromArray, KernelError, type WasmBackend } from '../src/node.js';

const run = promisify(execFile);

async function wasm(threads: number): Promise<WasmBackend> {
  return (await createBackend({ kind: 'wasm', threads, minWorkPerThread: 1, log: null })) as WasmBackend;
}

describe('wasm thread pool', () => {
  it.each(['destroy', 'keep'])('a process exits by itself after using a 3-thread pool (%s)', async (mode) => {
    const child = join(import.meta.dirname, 'fixtures', 'wasm-pool-child.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', child, mode], {
      cwd: join(import.meta.dirname, '..'),
      timeout: 30_000,
    });
    expect(stdout.trim()).toBe('threads=3 sum=2,4,6,8,10,12,14');
  });

  it('a kernel that traps on a worker is a KernelError naming the kernel and thread; the pool goes on', async () => {
    const backend = await wasm(3);
    try {
      for (const which of [0, 1, 2]) {
        expect(() => backend.runKernel('testTrap', [which], 3)).toThrow(KernelError);
        expect(() => backend.runKernel('testTrap', [which], 3)).toThrow(
          new RegExp(`kernel testTrap failed on thread ${which}: .*unreachable`),
        );
      }
      const x = fromArray(backend, [1, 2, 3], [3]);
      expect(Array.from(await add(x, x).toFloat32())).toEqual([2, 4, 6]);
    } finally {
      backend.destroy();
    }
  });

  it('a dead worker gives a clear error on the next op, not a hang', async () => {
    const backend = await wasm(3);
    try {
      const x = fromArray(backend, [1, 2, 3], [3]);
      await backend.killWorkerForTesting(2);
      expect(() => add(x, x)).toThrow(/wasm backend: worker 2 of 2 exited .*cannot run ops any more/);
    } finally {
      backend.destroy();
    }
  });

  it('destroy() is final: every later use says so', async () => {
    const backend = await wasm(2);
    const x = fromArray(backend, [1, 2, 3], [3]);
    backend.destroy();
    backend.destroy(); // idempotent
    expect(() => add(x, x)).toThrow(/wasm backend: used after destroy\(\)/);
    expect(() => fromArray(backend, [1], [1])).toThrow(/used after destroy/);
  });

  it('threads must be a positive integer', async () => {
    await expect(createBackend({ kind: 'wasm', threads: 0 })).rejects.toThrow(
      /createBackend: threads must be a positive integer, got 0/,
    );
    await expect(createBackend({ kind: 'wasm', threads: 1.5 })).rejects.toThrow(/threads must be a positive integer/);
  });

  it('says what it runs on', async () => {
    const backend = await wasm(2);
    try {
      expect(backend.kind).toBe('wasm');
      expect(backend.threads).toBe(2);
      expect(backend.description).toMatch(/^WebAssembly (relaxed )?SIMD backend, 2 threads/);
      expect(backend.capacityBytes).toBeGreaterThan(4 * 2 ** 30 - 2 ** 20);
    } finally {
      backend.destroy();
    }
  });

  it('runs the relaxed-SIMD kernels in these tests (vitest.config.ts), the plain ones when asked', async () => {
    const relaxed = await createBackend({ kind: 'wasm', threads: 1, log: null });
    const plain = await createBackend({ kind: 'wasm', threads: 1, log: null, relaxedSimd: false });
    try {
      // So the op suite's wasm-1/2/3 cover the relaxed build and wasm-plain the plain one.
      expect(relaxed.description).toMatch(/^WebAssembly relaxed SIMD backend/);
      expect(plain.description).toMatch(/^WebAssembly SIMD backend/);
    } finally {
      relaxed.destroy();
      plain.destroy();
    }
  });
});

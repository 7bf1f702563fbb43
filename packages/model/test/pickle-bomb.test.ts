import { spawnSync } from 'node:child_process';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PICKLE_LIMITS, unpickleStateDict } from '../src/checkpoint/pickle.js';
import { writeZipFixture } from './zip-fixture.js';

/** The built package, loaded by a child process with a small heap. */
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const SOURCE = '/ckpt/consolidated.00.pth';

/** PROTO 2, then `body` repeated to `bytes` bytes in all, then STOP. */
function repeatedPickle(body: number[], bytes: number, prefix: number[] = []): Buffer {
  const head = [0x80, 2, ...prefix];
  const out = Buffer.alloc(bytes);
  out.set(head, 0);
  out.fill(Buffer.from(body), head.length, bytes - 1);
  out[bytes - 1] = 0x2e;
  return out;
}

/** A .pth whose data.pkl (deflated, so the file stays small) is `pickle`. */
async function pthWithPickle(pickle: Uint8Array, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-ts-pickle-bomb-'));
  const path = join(dir, `${name}.pth`);
  await writeZipFixture(path, [{ name: 'archive/data.pkl', data: pickle, method: 8 }]);
  return path;
}

/** Opens `path` in a child Node with a 512 MB heap; returns what it printed and how it ended. */
function openInSmallHeap(path: string): { status: number | null; signal: string | null; out: string } {
  const script = `
    import { openPthCheckpoint, ModelError } from ${JSON.stringify(DIST)};
    try { await openPthCheckpoint([${JSON.stringify(path)}]); console.log('opened'); }
    catch (error) { console.log(error instanceof ModelError ? 'ModelError: ' + error.message : 'OTHER: ' + error); }`;
  const child = spawnSync(process.execPath, ['--max-old-space-size=512', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { status: child.status, signal: child.signal, out: `${child.stdout}${child.stderr}` };
}

describe('pickle bombs: bounded work and memory', () => {
  it('refuses 150 M no-op opcodes in a small .pth with one line naming the file and the opcode limit', async () => {
    // 75 M PROTO-2 pairs: 150 MB of opcodes that change nothing, deflated to well under 1 MB.
    const path = await pthWithPickle(repeatedPickle([0x80, 2], 150_000_002), 'noop-bomb');
    expect((await stat(path)).size).toBeLessThan(1_000_000);
    const result = openInSmallHeap(path);
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(result.out.trim()).toBe(
      `ModelError: ${path}: the checkpoint's pickle (data.pkl) at byte 4000000 has more than 2,000,000 opcodes, ` +
        'past the limit for a state dict; the file is corrupt or hostile (refused before it could exhaust memory)',
    );
  }, 320_000);

  // The growth variants need not be 150 MB to pass their limits many times over (and the machine
  // running every package's tests at once is spared 300 MB of deflating and inflating for each).
  it('refuses a memo grown by 20 M MEMOIZE opcodes (once "Map maximum size exceeded")', async () => {
    const path = await pthWithPickle(repeatedPickle([0x94], 20_000_000, [0x4e]), 'memo-bomb');
    const result = openInSmallHeap(path);
    expect(result.status).toBe(0);
    expect(result.out).toContain(`ModelError: ${path}: the checkpoint's pickle (data.pkl) at byte`);
    expect(result.out).toContain('has more than 1,000,000 memo entries');
  }, 320_000);

  it('refuses a stack or a mark nesting grown without bound, in the parent too', async () => {
    const stackBomb = repeatedPickle([0x29], 20_000_000); // EMPTY_TUPLE
    const result = openInSmallHeap(await pthWithPickle(stackBomb, 'stack-bomb'));
    expect(result.status).toBe(0);
    expect(result.out).toContain('has more than 1,000,000 values on the stack');
    expect(() => unpickleStateDict(repeatedPickle([0x28], 10_000), SOURCE)).toThrow('has more than 1,000 nested MARKs');
  }, 320_000);

  it('limits each container (a list, a dict, a tuple) to its item count', () => {
    const limits = { ...PICKLE_LIMITS, containerItems: 1_000 };
    // EMPTY_LIST, then (NONE, APPEND) pairs: the 1,001st APPEND is refused.
    const list = repeatedPickle([0x4e, 0x61], 3 + 2 * 1_001 + 1, [0x5d]);
    expect(() => unpickleStateDict(list, SOURCE, limits)).toThrow(
      `${SOURCE}: the checkpoint's pickle (data.pkl) at byte ${4 + 2 * 1_000} has a list of more than 1,000 items`,
    );
    const tuple = repeatedPickle([0x4e], 3 + 1_001 + 2, [0x28]);
    tuple[tuple.length - 2] = 0x74; // MARK, 1,001 NONEs, TUPLE
    expect(() => unpickleStateDict(tuple, SOURCE, limits)).toThrow('has a tuple of more than 1,000 items');
  });
});

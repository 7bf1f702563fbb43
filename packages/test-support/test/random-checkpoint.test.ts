import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type F32TensorToWrite, llama3TokenizerPath, writeRandomLlama3Checkpoint } from '../src/index.js';

interface Captured {
  dir: string;
  writes: { path: string; tensors: F32TensorToWrite[] }[];
}

const folders: string[] = [];
afterAll(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

/** Runs the fixture with a writer that keeps the tensors instead of writing a .pth. */
async function capture(options?: { tokenizer?: string }): Promise<Captured> {
  const writes: Captured['writes'] = [];
  const dir = await writeRandomLlama3Checkpoint(async (path, tensors) => {
    writes.push({ path, tensors });
  }, options);
  folders.push(dir);
  return { dir, writes };
}

/** name, shape and a hash of the bytes (a deep compare of 33 MB of tensors runs out of memory). */
function digests(tensors: F32TensorToWrite[]) {
  return tensors.map((t) => [t.name, t.shape, createHash('sha256').update(t.data).digest('hex')]);
}

describe('writeRandomLlama3Checkpoint', () => {
  let first: Captured;
  beforeAll(async () => {
    first = await capture({ tokenizer: llama3TokenizerPath() });
  });

  it("writes params.json, the tokenizer it is given, and every tensor of a 2-layer model with Llama 3's vocabulary", async () => {
    const { dir, writes } = first;
    expect((await readdir(dir)).sort()).toEqual(['params.json', 'tokenizer.model']);
    expect(JSON.parse(await readFile(join(dir, 'params.json'), 'utf8'))).toMatchObject({ dim: 64, vocab_size: 128256 });
    expect(writes).toHaveLength(1);
    const [{ path, tensors }] = writes as [Captured['writes'][number]];
    expect(path).toBe(join(dir, 'consolidated.00.pth'));
    expect(tensors).toHaveLength(3 + 2 * 9);
    for (const t of tensors) expect(t.data.byteLength).toBe(4 * t.shape.reduce((a, b) => a * b, 1));
    expect(tensors.find((t) => t.name === 'output.weight')?.shape).toEqual([128256, 64]);
  });

  it('writes the same weights every time, into a new folder', async () => {
    const second = await capture();
    expect(second.dir).not.toBe(first.dir);
    expect(await readdir(second.dir)).toEqual(['params.json']);
    expect(digests(second.writes[0]?.tensors ?? [])).toEqual(digests(first.writes[0]?.tensors ?? []));
  });
});

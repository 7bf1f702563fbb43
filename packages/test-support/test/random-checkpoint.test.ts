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

/**
 * sha256 over every tensor's name and bytes, in order: the weights the generation and CLI tests'
 * own copies of this fixture wrote before it moved here.
 */
const WEIGHTS_SHA256 = 'a9a80a163c3cdef92265f6064b177bd5fa63904def74fc0f5ba9ff40f929aa89';

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

  it('writes the same weights every time', () => {
    const hash = createHash('sha256');
    for (const t of first.writes[0]?.tensors ?? []) hash.update(t.name).update(t.data);
    expect(hash.digest('hex')).toBe(WEIGHTS_SHA256);
  });
});

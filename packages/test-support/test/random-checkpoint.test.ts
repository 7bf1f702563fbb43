import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type F32TensorToWrite, llama3TokenizerPath, writeRandomLlama3Checkpoint } from '../src/index.js';

const folders: string[] = [];
afterAll(async () => {
  for (const dir of folders) await rm(dir, { recursive: true, force: true });
});

/** Runs the fixture with a writer that keeps the tensors instead of writing a .pth. */
async function capture(options?: { tokenizer?: string }) {
  const writes: { path: string; tensors: F32TensorToWrite[] }[] = [];
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
  it("writes params.json and hands every tensor of a 2-layer model with Llama 3's vocabulary to the writer", async () => {
    const { dir, writes } = await capture();
    expect(await readdir(dir)).toEqual(['params.json']);
    expect(JSON.parse(await readFile(join(dir, 'params.json'), 'utf8'))).toMatchObject({ dim: 64, vocab_size: 128256 });
    expect(writes).toHaveLength(1);
    const [{ path, tensors }] = writes as [(typeof writes)[number]];
    expect(path).toBe(join(dir, 'consolidated.00.pth'));
    expect(tensors).toHaveLength(3 + 2 * 9);
    for (const t of tensors) expect(t.data.byteLength).toBe(4 * t.shape.reduce((a, b) => a * b, 1));
    expect(tensors.find((t) => t.name === 'output.weight')?.shape).toEqual([128256, 64]);
  });

  it('writes the same weights every time', async () => {
    const [a, b] = await Promise.all([capture(), capture()]);
    expect(a.dir).not.toBe(b.dir);
    expect(digests(b.writes[0]?.tensors ?? [])).toEqual(digests(a.writes[0]?.tensors ?? []));
  });

  it('copies a tokenizer into the folder when asked', async () => {
    const { dir } = await capture({ tokenizer: llama3TokenizerPath() });
    expect((await readdir(dir)).sort()).toEqual(['params.json', 'tokenizer.model']);
  });
});

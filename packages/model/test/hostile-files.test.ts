// Crafted archives and files that are not what their names say: a zip whose local headers disagree
// with its central directory, a FIFO or a directory where a checkpoint file should be. Each is a
// one-line ModelError naming the file, never wrong bytes or a hang.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pickleStateDict } from '../src/checkpoint/pickle-writer.js';
import { ModelError, openCheckpoint, openPthCheckpoint } from '../src/index.js';
import { writeZipFixture, type ZipFixtureEntry } from './zip-fixture.js';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'llama-ts-hostile-'));
});

const values = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

/** A .pth of two f32 tensors a [2] = (1, 2) and b [2] = (3, 4), with `tweak` applied to its entries. */
async function pth(name: string, tweak: (entries: ZipFixtureEntry[]) => void = () => {}): Promise<string> {
  const pickle = pickleStateDict([
    { name: 'a', shape: [2], dtype: 'f32', storageKey: '0' },
    { name: 'b', shape: [2], dtype: 'f32', storageKey: '1' },
  ]);
  const entries: ZipFixtureEntry[] = [
    { name: 'archive/data.pkl', data: pickle },
    { name: 'archive/data/0', data: values(1, 2) },
    { name: 'archive/data/1', data: values(3, 4) },
  ];
  tweak(entries);
  const path = join(scratch, `${name}.pth`);
  await writeZipFixture(path, entries);
  return path;
}

async function readAll(path: string): Promise<number[][]> {
  const reader = await openPthCheckpoint([path]);
  try {
    const out: number[][] = [];
    for (const tensor of reader.tensors) {
      const bytes = await tensor.read();
      out.push([...new Float32Array(bytes.slice().buffer)]);
    }
    return out;
  } finally {
    await reader.close();
  }
}

const entry = (entries: ZipFixtureEntry[], name: string) => entries.find((e) => e.name === name) as ZipFixtureEntry;

describe('zip: local headers must agree with the central directory (as Python zipfile)', () => {
  it('reads the untouched archive', async () => {
    expect(await readAll(await pth('good'))).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it.each([
    [
      'name',
      (e: ZipFixtureEntry[]) => {
        entry(e, 'archive/data/0').local = { name: 'archive/data/9' };
      },
      /archive\/data\/0: the zip entry's local header gives the name "archive\/data\/9", its central directory "archive\/data\/0"/,
    ],
    [
      'method',
      (e: ZipFixtureEntry[]) => {
        entry(e, 'archive/data/1').local = { method: 8 };
      },
      /archive\/data\/1: the zip entry's local header gives compression method 8, its central directory 0/,
    ],
    [
      'size',
      (e: ZipFixtureEntry[]) => {
        entry(e, 'archive/data/0').local = { uncompressedSize: 4, compressedSize: 4 };
      },
      /local header gives compressed size 4, its central directory 8/,
    ],
    [
      'pickle name',
      (e: ZipFixtureEntry[]) => {
        entry(e, 'archive/data.pkl').local = { name: 'archive/other.pkl' };
      },
      /archive\/data\.pkl: the zip entry's local header gives the name "archive\/other\.pkl"/,
    ],
    [
      'overlap',
      (e: ZipFixtureEntry[]) => {
        // Sizes in a data descriptor (bit 3), so only the directory's size counts: it reaches into data/1.
        entry(e, 'archive/data/0').local = { flags: 0x0808 };
        entry(e, 'archive/data/0').central = { compressedSize: 60, uncompressedSize: 60 };
      },
      /archive\/data\/1: the zip entry's bytes \d+\.\.\d+ overlap those of archive\/data\/0/,
    ],
  ])('refuses a local header that disagrees: %s', async (name, tweak, message) => {
    const path = await pth(name.replace(' ', '-'), tweak);
    const error = await readAll(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message.startsWith(path)).toBe(true);
  });
});

describe('regular files only', () => {
  it('refuses a FIFO given as a .pth, params.json or safetensors file, without hanging', async () => {
    const dir = await mkdtemp(join(scratch, 'fifo-'));
    const fifo = join(dir, 'consolidated.00.pth');
    execFileSync('mkfifo', [fifo]);
    await expect(openPthCheckpoint([fifo])).rejects.toThrow(
      `${fifo}: the checkpoint is a FIFO (named pipe), expected a regular file`,
    );
    await writeFile(join(dir, 'params.json'), JSON.stringify({ dim: 64, n_layers: 1, n_heads: 4, vocab_size: 8 }));
    await expect(openCheckpoint(dir)).rejects.toThrow(`${fifo}: the checkpoint is a FIFO`);

    const meta = await mkdtemp(join(scratch, 'fifo-params-'));
    execFileSync('mkfifo', [join(meta, 'params.json')]);
    await expect(openCheckpoint(meta)).rejects.toThrow(
      `${join(meta, 'params.json')}: the Meta parameters file is a FIFO (named pipe), expected a regular file`,
    );
    const hf = await mkdtemp(join(scratch, 'fifo-hf-'));
    await writeFile(
      join(hf, 'config.json'),
      JSON.stringify({
        model_type: 'llama',
        hidden_size: 64,
        num_hidden_layers: 1,
        num_attention_heads: 4,
        vocab_size: 8,
        intermediate_size: 128,
        rms_norm_eps: 1e-5,
      }),
    );
    execFileSync('mkfifo', [join(hf, 'model.safetensors')]);
    await expect(openCheckpoint(hf)).rejects.toThrow(
      `${join(hf, 'model.safetensors')}: the safetensors file is a FIFO (named pipe), expected a regular file`,
    );
  });

  it('refuses a FIFO given as a GGUF file (--model), without hanging', async () => {
    const fifo = join(await mkdtemp(join(scratch, 'fifo-gguf-')), 'model.gguf');
    execFileSync('mkfifo', [fifo]);
    await expect(openCheckpoint(fifo)).rejects.toThrow(
      `${fifo}: the GGUF file is a FIFO (named pipe), expected a regular file`,
    );
  });

  it('names a directory given as a .pth or params.json (no bare EISDIR)', async () => {
    const dir = await mkdtemp(join(scratch, 'dirs-'));
    await mkdir(join(dir, 'params.json'));
    await expect(openCheckpoint(dir)).rejects.toThrow(
      `${join(dir, 'params.json')}: the Meta parameters file is a directory, expected a regular file`,
    );
    const shard = join(scratch, 'folder.pth');
    await mkdir(shard);
    await expect(openPthCheckpoint([shard])).rejects.toThrow(
      `${shard}: the checkpoint is a directory, expected a regular file`,
    );
  });
});

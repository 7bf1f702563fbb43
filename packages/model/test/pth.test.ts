import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickleStateDict } from '../src/checkpoint/pickle-writer.js';
import { openPthCheckpoint } from '../src/checkpoint/pth.js';
import { type PthTensorToWrite, writePthCheckpoint } from '../src/checkpoint/pth-writer.js';
import { writePthArchive } from '../src/checkpoint/torch-zip-writer.js';
import type { CheckpointReader } from '../src/checkpoint/types.js';
import { ModelError } from '../src/errors.js';
import { splitForRank } from './shards.js';

const GOLDEN = sharedPath('golden', 'tiny-meta-bf16', 'consolidated.00.pth');

// tiny-meta-bf16: dim 64, 2 layers, 4 heads, 2 kv heads, head_dim 16, vocab 512, ffn 224.
const DIM = 64;
const VOCAB = 512;
const FFN = 224;
const KV_DIM = 2 * 16;
const EXPECTED_SHAPES: [string, number[]][] = [
  ['tok_embeddings.weight', [VOCAB, DIM]],
  ...[0, 1].flatMap((layer): [string, number[]][] => [
    [`layers.${layer}.attention.wq.weight`, [DIM, DIM]],
    [`layers.${layer}.attention.wk.weight`, [KV_DIM, DIM]],
    [`layers.${layer}.attention.wv.weight`, [KV_DIM, DIM]],
    [`layers.${layer}.attention.wo.weight`, [DIM, DIM]],
    [`layers.${layer}.feed_forward.w1.weight`, [FFN, DIM]],
    [`layers.${layer}.feed_forward.w2.weight`, [DIM, FFN]],
    [`layers.${layer}.feed_forward.w3.weight`, [FFN, DIM]],
    [`layers.${layer}.attention_norm.weight`, [DIM]],
    [`layers.${layer}.ffn_norm.weight`, [DIM]],
  ]),
  ['norm.weight', [DIM]],
  ['output.weight', [VOCAB, DIM]],
];

/** bf16 is the top half of an f32. */
function bf16At(bytes: Uint8Array, index: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f32 = new DataView(new ArrayBuffer(4));
  f32.setUint16(2, view.getUint16(index * 2, true), true);
  return f32.getFloat32(0, true);
}

function sumBf16(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length / 2; i++) sum += bf16At(bytes, i);
  return sum;
}

async function readAll(reader: CheckpointReader): Promise<PthTensorToWrite[]> {
  const out: PthTensorToWrite[] = [];
  for (const tensor of reader.tensors) {
    out.push({ name: tensor.name, shape: tensor.shape, dtype: tensor.dtype, data: await tensor.read() });
  }
  return out;
}

/** Same names, shapes, dtypes and bytes (bytes compared as buffers: deep equality of big arrays is slow). */
function expectSameTensors(actual: PthTensorToWrite[], expected: PthTensorToWrite[]): void {
  const summary = (tensors: PthTensorToWrite[]) => tensors.map(({ name, shape, dtype }) => ({ name, shape, dtype }));
  expect(summary(actual)).toEqual(summary(expected));
  actual.forEach((tensor, i) => {
    expect(Buffer.from(tensor.data).equals(Buffer.from(expected[i]?.data ?? [])), `bytes of ${tensor.name}`).toBe(true);
  });
}

async function expectModelError(promise: Promise<unknown>, ...patterns: (string | RegExp)[]): Promise<ModelError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ModelError);
  const message = (error as ModelError).message;
  for (const pattern of patterns) {
    if (typeof pattern === 'string') expect(message).toContain(pattern);
    else expect(message).toMatch(pattern);
  }
  return error as ModelError;
}

let dir: string;
let golden: PthTensorToWrite[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llama-ts-pth-'));
  const reader = await openPthCheckpoint([GOLDEN]);
  golden = await readAll(reader);
  await reader.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('reading the golden torch.save checkpoint', () => {
  it('lists 3 + 9·n_layers bf16 tensors (embedding, norm, output, 9 per layer) with Meta names and spec shapes', async () => {
    const reader = await openPthCheckpoint([GOLDEN]);
    try {
      expect(reader.tensors).toHaveLength(3 + 9 * 2);
      expect(reader.tensors.map((tensor) => [tensor.name, tensor.shape])).toEqual(EXPECTED_SHAPES);
      for (const tensor of reader.tensors) {
        expect(tensor.dtype).toBe('bf16');
        expect(tensor.source).toBe(GOLDEN);
        const elements = tensor.shape.reduce((product, size) => product * size, 1);
        expect(tensor.byteLength).toBe(elements * 2);
        expect((await tensor.read()).byteLength).toBe(tensor.byteLength);
      }
    } finally {
      await reader.close();
    }
  });

  it('reads the values python reads from the zip (bf16 widened to f32)', () => {
    const byName = new Map(golden.map((tensor) => [tensor.name, tensor.data]));
    const at = (name: string) => byName.get(name) ?? new Uint8Array(0);
    // Expected numbers: python3 zipfile + struct on consolidated.00/data/<key>.
    expect(bf16At(at('tok_embeddings.weight'), 0)).toBe(0.00689697265625);
    expect(bf16At(at('tok_embeddings.weight'), 1)).toBe(0.0164794921875);
    expect(bf16At(at('tok_embeddings.weight'), 3 * 64 + 10)).toBe(-0.021240234375);
    expect(bf16At(at('tok_embeddings.weight'), 511 * 64 + 63)).toBe(-0.0030364990234375);
    expect(bf16At(at('layers.0.attention.wq.weight'), 0)).toBe(-0.169921875);
    expect(bf16At(at('layers.0.attention.wq.weight'), 4095)).toBe(-0.1181640625);
    expect(bf16At(at('layers.1.feed_forward.w2.weight'), 63 * 224 + 223)).toBe(0.000598907470703125);
    expect(bf16At(at('layers.1.feed_forward.w2.weight'), 5 * 224 + 100)).toBe(-0.0035552978515625);
    expect([0, 1, 2, 63].map((i) => bf16At(at('norm.weight'), i))).toEqual([0.95703125, 0.94921875, 0.8515625, 1]);
    expect(bf16At(at('output.weight'), 0)).toBe(-0.1474609375);
    expect(bf16At(at('output.weight'), 511 * 64 + 63)).toBe(0.3671875);
    expect(sumBf16(at('tok_embeddings.weight'))).toBeCloseTo(-6.407610345631838, 9);
    expect(sumBf16(at('layers.0.attention.wq.weight'))).toBeCloseTo(-12.61345624923706, 9);
    expect(sumBf16(at('output.weight'))).toBeCloseTo(-72.71573066711426, 9);
  });

  it('refuses reads after close()', async () => {
    const reader = await openPthCheckpoint([GOLDEN]);
    await reader.close();
    await expectModelError(reader.tensors[0]?.read() ?? Promise.resolve(), 'read after close()');
  });
});

describe('hostile and broken files', () => {
  it.each([
    ['os', 'system', 'os.system'],
    ['builtins', 'eval', 'builtins.eval'],
    ['__builtin__', 'eval', '__builtin__.eval'],
  ])('refuses a checkpoint whose pickle calls %s.%s, and runs nothing', async (module, name, qualified) => {
    const marker = join(dir, `pwned-${module}`);
    const command = `touch ${marker}`;
    const pickle = Uint8Array.from([
      0x80,
      2,
      0x63,
      ...new TextEncoder().encode(`${module}\n${name}\n`),
      0x8c,
      command.length,
      ...new TextEncoder().encode(command),
      0x85,
      0x52,
      0x2e,
    ]);
    const path = join(dir, `evil-${module}.pth`);
    await writePthArchive(path, pickle, []);
    await expectModelError(
      openPthCheckpoint([path]),
      `${path}: the checkpoint's pickle refers to ${qualified}, which is not allowed in a state dict`,
    );
    expect(existsSync(marker)).toBe(false);
  });

  it('reports a truncated file, naming it, wherever it is cut', async () => {
    const whole = await readFile(GOLDEN);
    for (const length of [0, 100, 1000, Math.floor(whole.length / 2), whole.length - 100, whole.length - 10]) {
      const path = join(dir, `truncated-${length}.pth`);
      await writeFile(path, whole.subarray(0, length));
      await expectModelError(openPthCheckpoint([path]), path);
    }
  });

  it('reports a file with bytes cut out of the middle', async () => {
    const whole = await readFile(GOLDEN);
    const path = join(dir, 'holed.pth');
    await writeFile(path, Buffer.concat([whole.subarray(0, 100_000), whole.subarray(150_000)]));
    await expectModelError(openPthCheckpoint([path]), path);
  });

  it('reports a storage entry shorter than the tensor needs, naming tensor and file', async () => {
    const path = join(dir, 'short-storage.pth');
    const pickle = pickleStateDict([{ name: 'norm.weight', shape: [64], dtype: 'bf16', storageKey: '0' }]);
    await writePthArchive(path, pickle, [{ key: '0', data: new Uint8Array(100) }]);
    await expectModelError(
      openPthCheckpoint([path]),
      `${path}: tensor norm.weight's storage short-storage/data/0 holds 100 bytes, expected 128`,
    );
  });

  it('reports a missing storage entry', async () => {
    const path = join(dir, 'no-storage.pth');
    const pickle = pickleStateDict([{ name: 'norm.weight', shape: [64], dtype: 'bf16', storageKey: '0' }]);
    await writePthArchive(path, pickle, []);
    await expectModelError(openPthCheckpoint([path]), `${path}: tensor norm.weight's storage`, 'missing');
  });

  it('reports a file truncated after it was opened when the tensor is read', async () => {
    const path = join(dir, 'shrinks.pth');
    await copyFile(GOLDEN, path);
    const reader = await openPthCheckpoint([path]);
    try {
      await truncate(path, 100_000);
      const output = reader.tensors.find((tensor) => tensor.name === 'output.weight');
      await expectModelError(output?.read() ?? Promise.resolve(), path, 'output.weight', 'truncated');
    } finally {
      await reader.close();
    }
  });

  it('reports a missing file and an empty list', async () => {
    const path = join(dir, 'does-not-exist.pth');
    await expectModelError(openPthCheckpoint([path]), path);
    await expectModelError(openPthCheckpoint([]), 'no files given');
  });
});

describe('writer', () => {
  it('writes what torch.save writes: same zip layout and pickle as the golden file, except the serialization id', async () => {
    const path = join(dir, 'consolidated.00.pth');
    await writePthCheckpoint(path, golden);
    const [ours, theirs] = [await readFile(path), await readFile(GOLDEN)];
    expect(ours.length).toBe(theirs.length);
    // Everything up to the serialization id's bytes is identical (headers, alignment, pickle, data,
    // descriptors); after it only that id and its CRC (in its descriptor and its central record) may differ.
    const idStart = theirs.indexOf(Buffer.from('consolidated.00/.data/serialization_id')) + 38 + 42;
    const differing: number[] = [];
    for (let i = 0; i < ours.length; i++) if (ours[i] !== theirs[i]) differing.push(i);
    expect(differing[0] ?? ours.length).toBeGreaterThanOrEqual(idStart);
    expect(differing.length).toBeLessThanOrEqual(40 + 4 + 4);
  });

  it('round-trips: the reader reads back exactly what was written', async () => {
    const path = join(dir, 'round-trip.pth');
    await writePthCheckpoint(path, golden);
    const reader = await openPthCheckpoint([path]);
    try {
      expectSameTensors(await readAll(reader), golden);
    } finally {
      await reader.close();
    }
  });

  it('round-trips f32, f16 and bf16 side by side, and ignores rope.freqs', async () => {
    const path = join(dir, 'mixed.pth');
    const bytes = (count: number, seed: number) => Uint8Array.from({ length: count }, (_, i) => (i * 31 + seed) & 0xff);
    const tensors: PthTensorToWrite[] = [
      { name: 'rope.freqs', shape: [8], dtype: 'f32', data: bytes(32, 1) },
      { name: 'a', shape: [3, 5], dtype: 'f32', data: bytes(60, 2) },
      { name: 'b', shape: [7], dtype: 'f16', data: bytes(14, 3) },
      { name: 'c', shape: [2, 2, 2], dtype: 'bf16', data: bytes(16, 4) },
      { name: 'd', shape: [4], dtype: 'f16', data: bytes(8, 5) },
    ];
    await writePthCheckpoint(path, tensors);
    const reader = await openPthCheckpoint([path]);
    try {
      expectSameTensors(await readAll(reader), tensors.slice(1));
    } finally {
      await reader.close();
    }
  });

  it('refuses data whose length does not match the shape', async () => {
    const path = join(dir, 'bad.pth');
    await expectModelError(
      writePthCheckpoint(path, [{ name: 'w', shape: [2, 2], dtype: 'f32', data: new Uint8Array(8) }]),
      `${path}: tensor w has 8 bytes of data, expected 16`,
    );
    expect(existsSync(path)).toBe(false);
  });
});

async function writeShards(
  folder: string,
  ranks: number,
  tensorsFor = (rank: number) => golden.map((t) => splitForRank(t, ranks, rank)),
): Promise<string[]> {
  const paths: string[] = [];
  for (let rank = 0; rank < ranks; rank++) {
    const path = join(folder, `consolidated.${String(rank).padStart(2, '0')}.pth`);
    await writePthCheckpoint(path, tensorsFor(rank));
    paths.push(path);
  }
  return paths;
}

describe('model-parallel shards', () => {
  it.each([2, 4])('merges %i fairscale shards back into the unsplit tensors', async (ranks) => {
    const folder = await mkdtemp(join(dir, `shards-${ranks}-`));
    const paths = await writeShards(folder, ranks);
    const reader = await openPthCheckpoint(paths);
    try {
      expect(reader.tensors.map((tensor) => [tensor.name, tensor.shape])).toEqual(EXPECTED_SHAPES);
      for (const tensor of reader.tensors) expect(tensor.source).toBe(paths.join(', '));
      expectSameTensors(await readAll(reader), golden);
    } finally {
      await reader.close();
    }
  });

  it('reports a tensor missing from one shard, naming tensor and file', async () => {
    const folder = await mkdtemp(join(dir, 'shards-missing-'));
    const paths = await writeShards(folder, 2, (rank) =>
      golden
        .map((t) => splitForRank(t, 2, rank))
        .filter((t) => rank === 0 || t.name !== 'layers.1.feed_forward.w2.weight'),
    );
    await expectModelError(
      openPthCheckpoint(paths),
      `${paths[1]}: tensor layers.1.feed_forward.w2.weight is missing from this model-parallel shard`,
    );
  });

  it('reports shards whose shapes do not fit together', async () => {
    const folder = await mkdtemp(join(dir, 'shards-shape-'));
    const paths = await writeShards(folder, 2, (rank) =>
      golden.map((t) => {
        const piece = splitForRank(t, 2, rank);
        // Rank 1's wq has half the columns: it cannot join rank 0's on dim 0.
        if (rank === 1 && t.name === 'layers.0.attention.wq.weight') {
          return { ...piece, shape: [32, 32], data: piece.data.subarray(0, 32 * 32 * 2) };
        }
        return piece;
      }),
    );
    await expectModelError(
      openPthCheckpoint(paths),
      `${paths[1]}: tensor layers.0.attention.wq.weight is bf16 [32, 32]`,
    );
  });

  it('reports a replicated norm that differs between shards when it is read', async () => {
    const folder = await mkdtemp(join(dir, 'shards-norm-'));
    const paths = await writeShards(folder, 2, (rank) =>
      golden.map((t) => {
        const piece = splitForRank(t, 2, rank);
        return rank === 1 && t.name === 'norm.weight' ? { ...piece, data: new Uint8Array(piece.data.length) } : piece;
      }),
    );
    const reader = await openPthCheckpoint(paths);
    try {
      const norm = reader.tensors.find((tensor) => tensor.name === 'norm.weight');
      await expectModelError(norm?.read() ?? Promise.resolve(), `${paths[1]}: tensor norm.weight differs`);
    } finally {
      await reader.close();
    }
  });
});

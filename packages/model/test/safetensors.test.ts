import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '@llama-ts/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { type HFLlamaConfig, parseHFConfig, readHFConfig } from '../src/checkpoint/hf-config.js';
import { HF_ROPE_LAYOUT, unpermuteHFRows } from '../src/checkpoint/hf-rows.js';
import { openSafetensorsCheckpoint, type SafetensorsCheckpointReader } from '../src/checkpoint/safetensors.js';
import { readSafetensorsHeader } from '../src/checkpoint/safetensors-header.js';
import { ModelError } from '../src/errors.js';

const GOLDEN_DIR = sharedPath('golden', 'tiny-hf-f16');
const GOLDEN_FILE = join(GOLDEN_DIR, 'model.safetensors');
const DIM = 96;
const LAYERS = 3;
const HEADS = 6;
const KV_HEADS = 2;
const HEAD_DIM = 16;
const VOCAB = 384;
const FFN = 288;

/** Meta's names and shapes for the golden model (spec §4.2). */
function expectedMetaShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>([
    ['tok_embeddings.weight', [VOCAB, DIM]],
    ['norm.weight', [DIM]],
    ['output.weight', [VOCAB, DIM]],
  ]);
  for (let layer = 0; layer < LAYERS; layer++) {
    const prefix = `layers.${layer}`;
    shapes.set(`${prefix}.attention.wq.weight`, [HEADS * HEAD_DIM, DIM]);
    shapes.set(`${prefix}.attention.wk.weight`, [KV_HEADS * HEAD_DIM, DIM]);
    shapes.set(`${prefix}.attention.wv.weight`, [KV_HEADS * HEAD_DIM, DIM]);
    shapes.set(`${prefix}.attention.wo.weight`, [DIM, HEADS * HEAD_DIM]);
    shapes.set(`${prefix}.feed_forward.w1.weight`, [FFN, DIM]);
    shapes.set(`${prefix}.feed_forward.w3.weight`, [FFN, DIM]);
    shapes.set(`${prefix}.feed_forward.w2.weight`, [DIM, FFN]);
    shapes.set(`${prefix}.attention_norm.weight`, [DIM]);
    shapes.set(`${prefix}.ffn_norm.weight`, [DIM]);
  }
  return shapes;
}

/** IEEE half → number, to compare with values Python's struct ('<e') decoded from the golden file. */
function f16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function f16At(bytes: Uint8Array, index: number): number {
  return f16ToNumber(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(index * 2, true));
}

async function readAll(reader: SafetensorsCheckpointReader): Promise<Map<string, Uint8Array>> {
  const result = new Map<string, Uint8Array>();
  for (const tensor of reader.tensors) result.set(tensor.name, await tensor.read());
  return result;
}

// ---------------------------------------------------------------------------------------------
// A small safetensors writer, independent of the reader under test

interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

type HeaderJson = Record<string, unknown>;

/** Writes tensors back to back; `editHeader` may corrupt the header before it is written. */
function writeSafetensors(path: string, tensors: RawTensor[], editHeader?: (header: HeaderJson) => void): void {
  const header: HeaderJson = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const tensor of tensors) {
    header[tensor.name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [offset, offset + tensor.data.byteLength],
    };
    offset += tensor.data.byteLength;
  }
  editHeader?.(header);
  let headerText = JSON.stringify(header);
  // The official writer pads the header with spaces to a multiple of 8 bytes; do the same.
  headerText += ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf8');
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(headerBytes.length));
  writeFileSync(path, Buffer.concat([lengthBytes, headerBytes, ...tensors.map((tensor) => tensor.data)]));
}

/** The golden checkpoint's tensors, with their transformers names, parsed with plain JSON + offsets. */
function goldenRawTensors(): RawTensor[] {
  const file = readFileSync(GOLDEN_FILE);
  const headerLength = Number(file.readBigUInt64LE(0));
  const header = JSON.parse(file.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  return Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, entry]) => ({
      name,
      dtype: entry.dtype,
      shape: entry.shape,
      data: new Uint8Array(
        file.subarray(8 + headerLength + entry.data_offsets[0], 8 + headerLength + entry.data_offsets[1]),
      ),
    }));
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'llama-ts-safetensors-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A one-file checkpoint in a fresh folder, from the golden tensors after `edit`. */
function singleFileCheckpoint(edit: (tensors: RawTensor[]) => RawTensor[], editHeader?: (header: HeaderJson) => void) {
  const dir = tempDir();
  writeSafetensors(join(dir, 'model.safetensors'), edit(goldenRawTensors()), editHeader);
  return dir;
}

async function expectModelError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ModelError);
  expect((error as ModelError).message).toMatch(pattern);
}

// ---------------------------------------------------------------------------------------------

describe('golden tiny-hf-f16 checkpoint', () => {
  it('lists 3 + 9·3 tensors with Meta names, shapes and dtype f16', async () => {
    const reader = await openSafetensorsCheckpoint(GOLDEN_DIR);
    try {
      const expected = expectedMetaShapes();
      expect(reader.tensors).toHaveLength(3 + 9 * LAYERS);
      expect(new Set(reader.tensors.map((tensor) => tensor.name))).toEqual(new Set(expected.keys()));
      for (const tensor of reader.tensors) {
        expect(tensor.shape, tensor.name).toEqual(expected.get(tensor.name));
        expect(tensor.dtype).toBe('f16');
        expect(tensor.byteLength).toBe(tensor.shape.reduce((a, b) => a * b, 1) * 2);
        expect(tensor.source).toBe(GOLDEN_FILE);
      }
      expect(reader.ropeLayout).toBe('half');
      expect(HF_ROPE_LAYOUT).toBe('half');
      const q1 = reader.tensors.find((tensor) => tensor.name === 'layers.1.attention.wq.weight');
      expect(q1?.storedName).toBe('model.layers.1.self_attn.q_proj.weight');
    } finally {
      await reader.close();
    }
  });

  it('reads the values Python decodes from the file (json + struct "<e")', async () => {
    const reader = await openSafetensorsCheckpoint(GOLDEN_DIR);
    try {
      const data = await readAll(reader);
      const get = (name: string): Uint8Array => {
        const bytes = data.get(name);
        if (!bytes) throw new Error(`missing ${name}`);
        return bytes;
      };
      for (const [name, bytes] of data) {
        expect(bytes.byteLength, name).toBe(reader.tensors.find((tensor) => tensor.name === name)?.byteLength);
      }
      expect(f16At(get('tok_embeddings.weight'), 0)).toBe(0.003780364990234375);
      expect(f16At(get('tok_embeddings.weight'), 383 * DIM + 95)).toBe(-0.004291534423828125);
      expect(f16At(get('output.weight'), 5)).toBe(-0.4970703125);
      expect(f16At(get('layers.1.attention.wq.weight'), 17 * DIM + 3)).toBe(-0.240478515625);
      expect(f16At(get('layers.2.feed_forward.w2.weight'), 95 * FFN + 287)).toBe(-0.0001996755599975586);
      expect(f16At(get('norm.weight'), 10)).toBe(1.0263671875);
      expect(f16At(get('layers.0.attention_norm.weight'), 0)).toBe(0.9443359375);
      const k0 = get('layers.0.attention.wk.weight');
      expect([0, 1, 2, 3].map((i) => f16At(k0, i))).toEqual([
        0.024871826171875, -0.361328125, 0.004405975341796875, 0.2413330078125,
      ]);
      expect(createHash('sha256').update(get('norm.weight')).digest('hex')).toBe(
        '812cfba43fb2390703d26a066ed8da48439dbb8f009e9098269e6de27ca1c7c5',
      );
    } finally {
      await reader.close();
    }
  });

  it('keeps the Hugging Face q/k row order; unpermuteHFRows gives Meta order', async () => {
    const reader = await openSafetensorsCheckpoint(GOLDEN_DIR);
    try {
      const k0 = reader.tensors.find((tensor) => tensor.name === 'layers.0.attention.wk.weight');
      if (!k0) throw new Error('missing wk');
      const meta = unpermuteHFRows(await k0.read(), KV_HEADS * HEAD_DIM, DIM, KV_HEADS, 2);
      // Meta row 1 of head 0 is HF row d/2 = 8 (values from Python).
      expect([f16At(meta, DIM), f16At(meta, DIM + 1)]).toEqual([0.1337890625, -0.232421875]);
      expect(f16At(meta, 0)).toBe(0.024871826171875);
    } finally {
      await reader.close();
    }
  });

  it('readSafetensorsHeader returns entries in file order and the metadata', async () => {
    const header = await readSafetensorsHeader(GOLDEN_FILE);
    expect(header.metadata).toEqual({ format: 'pt' });
    // lm_head, the embedding, the final norm and 9 per layer.
    expect(header.entries).toHaveLength(3 + 9 * LAYERS);
    expect(header.entries[0]?.name).toBe('lm_head.weight');
    expect(header.entries[0]?.dataStart).toBe(8 + 3072);
    expect(header.entries.at(-1)?.dataEnd).toBe(header.fileSize);
  });

  it('fails with a clear error after close', async () => {
    const reader = await openSafetensorsCheckpoint(GOLDEN_DIR);
    await reader.close();
    await expectModelError(reader.tensors[0]?.read() ?? Promise.resolve(), /model\.safetensors.*closed/);
  });
});

describe('sharded checkpoints', () => {
  const SHARD_1 = 'model-00001-of-00002.safetensors';
  const SHARD_2 = 'model-00002-of-00002.safetensors';

  /** Splits the golden tensors over two shards + an index; returns the folder. */
  function writeShardedGolden(options: { omitShard2?: boolean } = {}): string {
    const dir = tempDir();
    const tensors = goldenRawTensors();
    const half = Math.ceil(tensors.length / 2);
    const parts: [string, RawTensor[]][] = [
      [SHARD_1, tensors.slice(0, half)],
      [SHARD_2, tensors.slice(half)],
    ];
    const weightMap: Record<string, string> = {};
    for (const [file, part] of parts) {
      if (!(options.omitShard2 && file === SHARD_2)) writeSafetensors(join(dir, file), part);
      for (const tensor of part) weightMap[tensor.name] = file;
    }
    const index = { metadata: { total_size: 796928 }, weight_map: weightMap };
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index, null, 2));
    return dir;
  }

  it('reads the same bytes as the single file', async () => {
    const dir = writeShardedGolden();
    const single = await openSafetensorsCheckpoint(GOLDEN_DIR);
    const sharded = await openSafetensorsCheckpoint(dir);
    try {
      expect(new Set(sharded.tensors.map((tensor) => tensor.source))).toEqual(
        new Set([join(dir, SHARD_1), join(dir, SHARD_2)]),
      );
      const expected = await readAll(single);
      const actual = await readAll(sharded);
      expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [name, bytes] of expected) expect(Buffer.from(actual.get(name) ?? []).equals(bytes), name).toBe(true);
      for (const tensor of sharded.tensors) {
        expect(tensor.shape).toEqual(single.tensors.find((other) => other.name === tensor.name)?.shape);
      }
    } finally {
      await single.close();
      await sharded.close();
    }
  });

  it('names a missing shard and the index', async () => {
    const dir = writeShardedGolden({ omitShard2: true });
    await expectModelError(
      openSafetensorsCheckpoint(dir),
      /model\.safetensors\.index\.json: lists shard model-00002-of-00002\.safetensors, but .* does not exist/,
    );
  });

  it('names the file and tensor of a truncated shard', async () => {
    const dir = writeShardedGolden();
    const shard2 = join(dir, SHARD_2);
    const header = await readSafetensorsHeader(shard2);
    const last = header.entries.at(-1);
    truncateSync(shard2, header.fileSize - 10);
    await expectModelError(
      openSafetensorsCheckpoint(dir),
      new RegExp(
        `${SHARD_2.replaceAll('.', '\\.')}: tensor "${last?.name}": data ends at byte \\d+, past the end of the file`,
      ),
    );
  });

  it('names the file and tensor when the file shrinks after opening', async () => {
    const dir = writeShardedGolden();
    const reader = await openSafetensorsCheckpoint(dir);
    try {
      const header = await readSafetensorsHeader(join(dir, SHARD_2));
      const last = header.entries.at(-1);
      truncateSync(join(dir, SHARD_2), header.fileSize - 10);
      const tensor = reader.tensors.find((candidate) => candidate.storedName === last?.name);
      await expectModelError(
        tensor?.read() ?? Promise.resolve(),
        new RegExp(`${SHARD_2.replaceAll('.', '\\.')}: truncated while reading tensor "${last?.name}"`),
      );
    } finally {
      await reader.close();
    }
  });

  it('rejects an index that disagrees with a shard header', async () => {
    const dir = writeShardedGolden();
    const indexPath = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map: Record<string, string> };
    index.weight_map['model.norm.weight'] = SHARD_1;
    writeFileSync(indexPath, JSON.stringify(index));
    await expectModelError(
      openSafetensorsCheckpoint(dir),
      /00001-of-00002\.safetensors: has no tensor "model\.norm\.weight"/,
    );
  });

  it('rejects an index without a weight_map or with a shard path outside the folder', async () => {
    const dir = tempDir();
    const indexPath = join(dir, 'model.safetensors.index.json');
    writeFileSync(indexPath, JSON.stringify({ metadata: {} }));
    await expectModelError(openSafetensorsCheckpoint(dir), /index\.json: expected an object with a "weight_map"/);
    writeFileSync(indexPath, JSON.stringify({ weight_map: { 'model.norm.weight': '../x.safetensors' } }));
    await expectModelError(
      openSafetensorsCheckpoint(dir),
      /weight_map\["model\.norm\.weight"\] is "\.\.\/x\.safetensors"/,
    );
  });
});

describe('header validation', () => {
  it('rejects an unsupported dtype, naming the tensor and dtype', async () => {
    const dir = singleFileCheckpoint((tensors) => [
      ...tensors,
      { name: 'model.layers.0.self_attn.position_ids', dtype: 'I64', shape: [2], data: new Uint8Array(16) },
    ]);
    await expectModelError(
      openSafetensorsCheckpoint(dir),
      /model\.safetensors: tensor "model\.layers\.0\.self_attn\.position_ids": dtype "I64" is not supported; expected one of F32, F16, BF16/,
    );
  });

  it('rejects offsets past the end of the file', async () => {
    const dir = singleFileCheckpoint(
      (tensors) => tensors,
      (header) => {
        header['model.norm.weight'] = { dtype: 'F16', shape: [96], data_offsets: [900_000, 900_192] };
      },
    );
    await expectModelError(
      openSafetensorsCheckpoint(dir),
      /model\.safetensors: tensor "model\.norm\.weight": data ends at byte \d+, past the end of the file \(\d+ bytes\)/,
    );
  });

  it('rejects offsets that disagree with shape × dtype size', async () => {
    const dir = singleFileCheckpoint(
      (tensors) => tensors,
      (header) => {
        header['model.norm.weight'] = { dtype: 'F32', shape: [96], data_offsets: [0, 192] };
      },
    );
    await expectModelError(
      openSafetensorsCheckpoint(dir),
      /tensor "model\.norm\.weight": data_offsets \[0, 192\] span 192 bytes, but shape \[96\] of F32 needs 384/,
    );
  });

  it('rejects overlapping tensors', async () => {
    const dir = singleFileCheckpoint(
      (tensors) => tensors,
      (header) => {
        header['model.norm.weight'] = { dtype: 'F16', shape: [96], data_offsets: [0, 192] };
      },
    );
    await expectModelError(openSafetensorsCheckpoint(dir), /model\.safetensors: tensors ".*" and ".*" overlap/);
  });

  it('rejects a bad shape and a bad header length', async () => {
    const badShape = singleFileCheckpoint(
      (tensors) => tensors,
      (header) => {
        header['model.norm.weight'] = { dtype: 'F16', shape: [-96], data_offsets: [0, 192] };
      },
    );
    await expectModelError(
      openSafetensorsCheckpoint(badShape),
      /"model\.norm\.weight": shape \[-96\] must be an array of non-negative integers/,
    );

    const dir = tempDir();
    const path = join(dir, 'model.safetensors');
    const bytes = Buffer.alloc(64);
    bytes.writeBigUInt64LE(1n << 40n);
    writeFileSync(path, bytes);
    await expectModelError(
      readSafetensorsHeader(path),
      /model\.safetensors: header length 1099511627776 is not plausible/,
    );

    bytes.writeBigUInt64LE(8n);
    bytes.write('{"a": no', 8);
    writeFileSync(path, bytes);
    await expectModelError(
      readSafetensorsHeader(path),
      /model\.safetensors: the safetensors header is not valid UTF-8 JSON/,
    );
  });

  it('rejects an unknown tensor name, naming it and the file', async () => {
    const dir = singleFileCheckpoint((tensors) => [
      ...tensors,
      { name: 'transformer.h.0.attn.c_attn.weight', dtype: 'F16', shape: [2, 2], data: new Uint8Array(8) },
    ]);
    await expectModelError(
      openSafetensorsCheckpoint(dir),
      /model\.safetensors: unknown tensor "transformer\.h\.0\.attn\.c_attn\.weight"/,
    );
  });

  it('ignores rotary_emb.inv_freq', async () => {
    const dir = singleFileCheckpoint((tensors) => [
      ...tensors,
      { name: 'model.layers.0.self_attn.rotary_emb.inv_freq', dtype: 'F32', shape: [8], data: new Uint8Array(32) },
    ]);
    const reader = await openSafetensorsCheckpoint(dir);
    expect(reader.tensors).toHaveLength(3 + 9 * LAYERS);
    await reader.close();
  });

  it('says when the folder has no checkpoint', async () => {
    const dir = tempDir();
    await expectModelError(
      openSafetensorsCheckpoint(dir),
      /no Hugging Face checkpoint found: expected model\.safetensors\.index\.json \(sharded\) or model\.safetensors/,
    );
  });
});

describe('tied word embeddings', () => {
  const withoutLmHead = () => singleFileCheckpoint((tensors) => tensors.filter((t) => t.name !== 'lm_head.weight'));

  it('makes output.weight read the embedding when asked', async () => {
    const reader = await openSafetensorsCheckpoint(withoutLmHead(), { tieWordEmbeddings: true });
    try {
      expect(reader.tensors).toHaveLength(3 + 9 * LAYERS);
      const embedding = reader.tensors.find((tensor) => tensor.name === 'tok_embeddings.weight');
      const output = reader.tensors.find((tensor) => tensor.name === 'output.weight');
      expect(output?.shape).toEqual([VOCAB, DIM]);
      expect(output?.dtype).toBe('f16');
      expect(output?.storedName).toBe('model.embed_tokens.weight');
      const outputBytes = await output?.read();
      expect(
        Buffer.from(outputBytes ?? []).equals(await (embedding?.read() ?? Promise.resolve(new Uint8Array()))),
      ).toBe(true);
    } finally {
      await reader.close();
    }
  });

  it('says how to tie when lm_head.weight is missing', async () => {
    await expectModelError(openSafetensorsCheckpoint(withoutLmHead()), /no lm_head\.weight.*tieWordEmbeddings: true/);
  });
});

describe('unpermuteHFRows', () => {
  /** transformers' permute: w.view(heads, d/2, 2, cols).transpose(1, 2).reshape(rows, cols). */
  function permuteLikeTransformers(
    meta: Uint8Array,
    rows: number,
    cols: number,
    heads: number,
    elementBytes: number,
  ): Uint8Array {
    const headDim = rows / heads;
    const rowBytes = cols * elementBytes;
    const out = new Uint8Array(meta.byteLength);
    for (let head = 0; head < heads; head++) {
      for (let pair = 0; pair < headDim / 2; pair++) {
        for (let member = 0; member < 2; member++) {
          // View index [head, pair, member] → after transpose(1, 2) it sits at [head, member, pair].
          const source = head * headDim + pair * 2 + member;
          const target = head * headDim + member * (headDim / 2) + pair;
          out.set(meta.subarray(source * rowBytes, (source + 1) * rowBytes), target * rowBytes);
        }
      }
    }
    return out;
  }

  it('matches a hand-made example', () => {
    // 1 head, d = 6, one 1-byte column: meta_row[2i + h] = hf_row[3h + i].
    expect([...unpermuteHFRows(Uint8Array.from([0, 1, 2, 3, 4, 5]), 6, 1, 1, 1)]).toEqual([0, 3, 1, 4, 2, 5]);
    // 2 heads, d = 4, rows of 2 columns × 2 bytes move as a whole.
    const hf = Uint8Array.from({ length: 8 * 4 }, (_, byte) => Math.floor(byte / 4) * 10 + (byte % 4));
    const meta = unpermuteHFRows(hf, 8, 2, 2, 2);
    const rowOrder = Array.from({ length: 8 }, (_, row) => Math.floor((meta[row * 4] ?? 0) / 10));
    expect(rowOrder).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    expect([...meta.subarray(4, 8)]).toEqual([20, 21, 22, 23]);
  });

  it('is the inverse of transformers permute', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed & 0xff;
    };
    for (const [rows, cols, heads, elementBytes] of [
      [HEADS * HEAD_DIM, DIM, HEADS, 2],
      [KV_HEADS * HEAD_DIM, DIM, KV_HEADS, 4],
      [128 * 2, 3, 2, 2],
    ] as const) {
      const x = Uint8Array.from({ length: rows * cols * elementBytes }, random);
      expect(
        permuteLikeTransformers(unpermuteHFRows(x, rows, cols, heads, elementBytes), rows, cols, heads, elementBytes),
      ).toEqual(x);
      expect(
        unpermuteHFRows(permuteLikeTransformers(x, rows, cols, heads, elementBytes), rows, cols, heads, elementBytes),
      ).toEqual(x);
    }
  });

  it('rejects sizes that do not fit', () => {
    expect(() => unpermuteHFRows(new Uint8Array(12), 6, 1, 4, 2)).toThrow(ModelError);
    expect(() => unpermuteHFRows(new Uint8Array(11), 6, 1, 1, 2)).toThrow(/expected 6×1×2 = 12 bytes, got 11/);
  });
});

describe('config.json', () => {
  const golden = (): Record<string, unknown> =>
    JSON.parse(readFileSync(join(GOLDEN_DIR, 'config.json'), 'utf8')) as Record<string, unknown>;

  it('parses the golden config', async () => {
    const config = await readHFConfig(GOLDEN_DIR);
    const expected: HFLlamaConfig = {
      model_type: 'llama',
      hidden_size: 96,
      num_hidden_layers: 3,
      num_attention_heads: 6,
      num_key_value_heads: 2,
      vocab_size: 384,
      intermediate_size: 288,
      rms_norm_eps: 1e-5,
      rope_theta: 500000,
      max_position_embeddings: 2048,
      tie_word_embeddings: false,
      torch_dtype: 'float16',
    };
    expect(config).toEqual(expected);
  });

  it('parses Llama 3.1 rope_scaling (and the old "type" spelling)', () => {
    const ropeScaling = {
      factor: 8.0,
      low_freq_factor: 1.0,
      high_freq_factor: 4.0,
      original_max_position_embeddings: 8192,
    };
    const expected = { rope_type: 'llama3', ...ropeScaling };
    const config = parseHFConfig({ ...golden(), rope_scaling: { rope_type: 'llama3', ...ropeScaling } }, 'config.json');
    expect(config.rope_scaling).toEqual(expected);
    const old = parseHFConfig({ ...golden(), rope_scaling: { type: 'llama3', ...ropeScaling } }, 'config.json');
    expect(old.rope_scaling).toEqual(expected);
  });

  it.each([
    [
      'missing hidden_size',
      { hidden_size: undefined },
      /config\.json: field "hidden_size" is missing; expected a positive integer/,
    ],
    [
      'a string hidden_size',
      { hidden_size: '96' },
      /config\.json: field "hidden_size" is "96" \(string\); expected a positive integer/,
    ],
    [
      'model_type mistral',
      { model_type: 'mistral' },
      /config\.json: field "model_type" is "mistral" \(string\); only "llama"/,
    ],
    ['missing model_type', { model_type: undefined }, /config\.json: field "model_type" is missing/],
    [
      'a zero rms_norm_eps',
      { rms_norm_eps: 0 },
      /config\.json: field "rms_norm_eps" is 0 \(number\); expected a positive number/,
    ],
    [
      'a string tie_word_embeddings',
      { tie_word_embeddings: 'yes' },
      /field "tie_word_embeddings" .* expected true or false/,
    ],
    [
      'kv heads that do not divide heads',
      { num_key_value_heads: 4 },
      /field "num_key_value_heads" \(4\) must divide "num_attention_heads" \(6\)/,
    ],
    ['attention biases', { attention_bias: true }, /field "attention_bias" is true/],
    [
      'yarn rope_scaling',
      { rope_scaling: { rope_type: 'yarn', factor: 4 } },
      /config\.json: field "rope_scaling\.rope_type" is "yarn"; only "llama3" RoPE scaling/,
    ],
    [
      'llama3 rope_scaling without factor',
      {
        rope_scaling: {
          rope_type: 'llama3',
          low_freq_factor: 1,
          high_freq_factor: 4,
          original_max_position_embeddings: 8192,
        },
      },
      /config\.json: field "rope_scaling\.factor" is missing/,
    ],
    [
      'rope_scaling that is not an object',
      { rope_scaling: 8 },
      /config\.json: field "rope_scaling" is 8 \(number\); expected an object or null/,
    ],
  ])('rejects %s', (_label, change, pattern) => {
    const json = { ...golden(), ...change };
    let caught: unknown;
    try {
      parseHFConfig(json, '/models/tiny/config.json');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ModelError);
    expect((caught as ModelError).message).toMatch(pattern);
  });

  it('names config.json when it is missing', async () => {
    await expectModelError(readHFConfig(tempDir()), /config\.json: cannot read the Hugging Face config/);
  });
});

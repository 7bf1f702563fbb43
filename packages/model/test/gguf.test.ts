// GGUF files (written here by our own writer, as llama.cpp lays them out): the container with
// metadata of every type, metadata → ModelArgs, tensor types against float64 values, whole models
// in each type against the same model in f32, tied embeddings, Llama 3.1 scaling, and every kind of
// broken file named in one line.
import { mkdtemp, readFile, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, createBackend, f16ToF32 } from '@llama-ts/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeGGML,
  type GGUFMetadataToWrite,
  type GGUFTensorToWrite,
  GGUFValueType,
  ggufValue,
  LLAMA31_ROPE_SCALING,
  type LlamaWeights,
  loadModel,
  loadWeights,
  ModelError,
  modelFootprint,
  openCheckpoint,
  readGGUFHeader,
  ropeFrequencies,
  writeGGUF,
} from '../src/index.js';
import {
  type GoldenModel,
  ggufParams,
  goldenDir,
  goldenExpected,
  maxAbsDiff,
  promptLogProbs,
  readGoldenModel,
  writeEmbeddingModel,
  writeGoldenGGUF,
  writeMetaFromGolden,
} from './gguf-fixtures.js';

/** A loaded weight by Meta name. */
function tensorOf(weights: LlamaWeights, name: string) {
  const layer = /^layers\.(\d+)\.(.+)$/.exec(name);
  const keys: Record<string, keyof LlamaWeights['layers'][number]> = {
    'attention_norm.weight': 'attentionNorm',
    'attention.wq.weight': 'wq',
    'attention.wk.weight': 'wk',
    'attention.wv.weight': 'wv',
    'attention.wo.weight': 'wo',
    'ffn_norm.weight': 'ffnNorm',
    'feed_forward.w1.weight': 'w1',
    'feed_forward.w2.weight': 'w2',
    'feed_forward.w3.weight': 'w3',
  };
  if (layer)
    return (weights.layers[Number(layer[1])] as LlamaWeights['layers'][number])[keys[layer[2] as string] as 'wq'];
  return {
    'tok_embeddings.weight': weights.tokEmbeddings,
    'norm.weight': weights.norm,
    'output.weight': weights.output,
  }[name] as LlamaWeights['norm'];
}

const prompt = goldenExpected.tokens;
let cpu: Backend;
let scratch: string;
let golden: GoldenModel;
let goldenLogits: Float32Array;

async function logitsOf(path: string, options: { weightStorage?: 'f32' } = {}): Promise<Float32Array> {
  const model = await loadModel(path, { backend: cpu, maxSeqLen: 32, ...options });
  try {
    return await model.forward([prompt], 0, { logits: 'all' });
  } finally {
    model.dispose();
  }
}

beforeAll(async () => {
  cpu = await createBackend({ kind: 'cpu' });
  scratch = await mkdtemp(join(tmpdir(), 'llama-ts-gguf-'));
  golden = await readGoldenModel();
  goldenLogits = await logitsOf(goldenDir);
});

afterAll(() => cpu.destroy());

describe('the container', () => {
  it('reads back metadata of every value type, in v3 and v2, at any alignment', async () => {
    const metadata: GGUFMetadataToWrite = {
      'general.architecture': ggufValue.string('llama'),
      u8: { type: GGUFValueType.UINT8, value: 255 },
      i8: { type: GGUFValueType.INT8, value: -128 },
      u16: { type: GGUFValueType.UINT16, value: 65535 },
      i16: { type: GGUFValueType.INT16, value: -32768 },
      u32: ggufValue.u32(4294967295),
      i32: ggufValue.i32(-2147483648),
      f32: ggufValue.f32(0.1),
      bool: ggufValue.bool(true),
      string: ggufValue.string('héllo ✓'),
      u64: ggufValue.u64(2n ** 64n - 1n),
      i64: { type: GGUFValueType.INT64, value: -(2n ** 40n) },
      i64big: { type: GGUFValueType.INT64, value: -(2n ** 62n) },
      f64: { type: GGUFValueType.FLOAT64, value: 0.1 },
      strings: ggufValue.array(GGUFValueType.STRING, ['a', '', 'Ġb']),
      ints: ggufValue.array(GGUFValueType.INT32, [1, -2, 3]),
    };
    const tensors: GGUFTensorToWrite[] = [
      { name: 'a', shape: [3], type: 'F32', data: encodeGGML(Float32Array.of(1, 2, 3), 'F32') },
      { name: 'b', shape: [2, 32], type: 'Q8_0', data: encodeGGML(new Float32Array(64).fill(1), 'Q8_0') },
    ];
    for (const [version, alignment] of [
      [3, 32],
      [2, 64],
    ] as const) {
      const path = join(scratch, `container-${version}.gguf`);
      await writeGGUF(path, { metadata, tensors, version, alignment });
      const header = await readGGUFHeader(path);
      expect(header).toMatchObject({ version, alignment });
      expect(header.dataOffset % alignment).toBe(0);
      const values = Object.fromEntries([...header.metadata].map(([key, entry]) => [key, entry.value]));
      expect(values).toMatchObject({
        u8: 255,
        i8: -128,
        u16: 65535,
        i16: -32768,
        u32: 4294967295,
        i32: -2147483648,
        f32: Math.fround(0.1),
        bool: true,
        string: 'héllo ✓',
        u64: 2n ** 64n - 1n,
        i64: -(2 ** 40), // a safe integer: a number
        i64big: -(2n ** 62n), // beyond 2^53: a bigint
        f64: 0.1,
        strings: ['a', '', 'Ġb'],
        ints: [1, -2, 3],
      });
      expect(header.tensors.map((t) => [t.name, t.shape, t.type.name, t.byteLength])).toEqual([
        ['a', [3], 'F32', 12],
        ['b', [2, 32], 'Q8_0', 68],
      ]);
      expect(header.tensors[1]?.start).toBe(header.dataOffset + alignment);
    }
  });
});

describe('metadata → ModelArgs', () => {
  it('maps every field and names q/k rows interleaved (GGUF keeps Meta order)', async () => {
    const path = await writeGoldenGGUF(scratch, 'args', golden);
    const { format, args, reader } = await openCheckpoint(path);
    await reader.close();
    expect(format).toBe('gguf');
    const { maxSeqLen, ...rest } = args;
    const { maxSeqLen: _, ...meta } = golden.args;
    expect(rest).toEqual({ ...meta, normEps: Math.fround(meta.normEps) });
    expect(maxSeqLen).toBe(64); // the file's context length (below the default 2048)
    expect(args.ropeLayout).toBe('interleaved');
    await expect(openCheckpoint(path, { maxSeqLen: 65 })).rejects.toThrow(
      'maxSeqLen 65 is longer than the 64 positions',
    );
  });

  it('takes the vocabulary size from the tokens, else from token_embd.weight', async () => {
    const tokens = Array.from({ length: golden.args.vocabSize }, (_, i) => `t${i}`);
    const choices: GGUFMetadataToWrite[] = [
      { 'tokenizer.ggml.tokens': ggufValue.array(GGUFValueType.STRING, tokens) },
      {},
    ];
    for (const metadata of choices) {
      const path = join(scratch, 'vocab.gguf');
      const { 'llama.vocab_size': _, ...rest } = await metadataOf(await writeGoldenGGUF(scratch, 'v', golden));
      await writeGGUF(path, { metadata: { ...rest, ...metadata }, tensors: await tensorsOf('v') });
      const { args, reader } = await openCheckpoint(path);
      await reader.close();
      expect(args.vocabSize).toBe(golden.args.vocabSize);
    }
  });
});

/** The metadata of a GGUF file we wrote, as writer input (for rewriting it with changes). */
async function metadataOf(path: string): Promise<Record<string, { type: GGUFValueType; value: never }>> {
  const header = await readGGUFHeader(path);
  return Object.fromEntries(
    [...header.metadata].map(([key, entry]) => [
      key,
      {
        type: entry.type,
        value: entry.value as never,
        ...(entry.elementType !== undefined ? { elementType: entry.elementType } : {}),
      },
    ]),
  );
}

async function tensorsOf(name: string): Promise<GGUFTensorToWrite[]> {
  const path = join(scratch, `${name}.gguf`);
  const header = await readGGUFHeader(path);
  const bytes = await readFile(path);
  return header.tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    type: t.type.name,
    data: new Uint8Array(bytes.subarray(t.start, t.start + t.byteLength)),
  }));
}

describe('tensor types', () => {
  /** Known blocks and the float64 values ggml's layouts (ggml-common.h) give them. */
  const f16Bits = Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7bff, 0x3555, 0x8000, 0x0400, 0x3e00);
  const bf16Bits = Uint16Array.of(0x3f80, 0xc040, 0x0001, 0x7f7f, 0x3eaa, 0x8000, 0x0080, 0x4049);
  const q8Block = (scaleBits: number, quants: number[]) => {
    const block = new Uint8Array(34);
    new DataView(block.buffer).setUint16(0, scaleBits, true);
    block.set(new Uint8Array(Int8Array.from(quants).buffer), 2);
    return block;
  };
  const quantsA = Array.from({ length: 32 }, (_, i) => ((i * 37) % 255) - 127);
  const quantsB = Array.from({ length: 32 }, (_, i) => (i % 2 ? 125 : -128) + (i % 3));
  const cases = [
    {
      type: 'F16',
      data: new Uint8Array(f16Bits.buffer),
      expected: [1, -2, 2 ** -24, 65504, 0.333251953125, -0, 2 ** -14, 1.5],
    },
    {
      type: 'BF16',
      data: new Uint8Array(bf16Bits.buffer),
      expected: [1, -3, 2 ** -133, 3.3895313892515355e38, 0.33203125, -0, 2 ** -126, 3.140625],
    },
    {
      type: 'F32',
      data: new Uint8Array(Float32Array.of(1, -2.5, 1e-40, 3e38, 0.1, -0, 7, 8).buffer),
      expected: [1, -2.5, Math.fround(1e-40), Math.fround(3e38), Math.fround(0.1), -0, 7, 8],
    },
    {
      type: 'Q8_0',
      data: new Uint8Array([...q8Block(0x2e66, quantsA), ...q8Block(0x8400, quantsB)]),
      // d = f16 0x2e66 = 0.099975586, 0x8400 = -6.1035e-5; value = d × q
      expected: [...quantsA.map((q) => 0.0999755859375 * q), ...quantsB.map((q) => -0.00006103515625 * q)],
    },
  ];

  it.each(cases)('$type loads to the float64 values of its layout', async ({ type, data, expected }) => {
    const columns = expected.length === 64 ? 32 : 8;
    const path = join(scratch, `type-${type}.gguf`);
    await writeEmbeddingModel(path, type, data, expected.length / columns, columns);
    // bf16 stored as f16 ('auto') is exact only in f16's range, as for Meta's bf16 checkpoints
    for (const storage of type === 'BF16' ? (['f32'] as const) : (['auto', 'f32'] as const)) {
      const { args, reader } = await openCheckpoint(path);
      const weights = await loadWeights(reader, args, cpu, { storage });
      await reader.close();
      expect(weights.tokEmbeddings.dtype).toBe(storage === 'f32' ? 'f32' : type.toLowerCase());
      expect(Array.from(await weights.tokEmbeddings.toFloat32()), `${type} stored ${storage}`).toEqual(expected);
    }
  });

  it('stores Q8_0 as the kernels q8_0 without dequantising (same quants and scales)', async () => {
    const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    const raw = encodeGGML(values, 'Q8_0');
    const path = join(scratch, 'q8.gguf');
    await writeEmbeddingModel(path, 'Q8_0', raw, 2, 32);
    const { reader } = await openCheckpoint(path);
    const bytes = await reader.tensors[0]?.read();
    await reader.close();
    if (!bytes) throw new Error('no bytes');
    expect(Array.from(bytes.subarray(0, 32))).toEqual(Array.from(raw.subarray(2, 34)));
    expect(Array.from(bytes.subarray(64, 66))).toEqual(Array.from(raw.subarray(0, 2)));
    // ggml's reference quantiser: d = amax / 127 (f16), q = roundf(x / d)
    const amax = Math.max(...values.subarray(0, 32).map(Math.abs));
    const d = f16ToF32(new Uint16Array(raw.slice(0, 2).buffer))[0] as number;
    expect(d).toBeCloseTo(amax / 127, 4);
  });
});

describe('whole models', () => {
  it.each(['F32', 'F16', 'BF16'] as const)(
    'the golden model as %s GGUF gives the Meta checkpoint’s logits and the golden log-probs',
    async (type) => {
      const path = await writeGoldenGGUF(scratch, `golden-${type}`, golden, { type });
      const logits = await logitsOf(path);
      // bf16 weights are exact in f16, bf16 and f32: the same model, stored as f16 or f32; GGUF
      // stores the RMSNorm epsilon as an f32 (1e-5 → 9.99999975e-6), which moves logits by ~4e-6
      expect(maxAbsDiff(logits, goldenLogits)).toBeLessThan(type === 'F32' ? 1e-4 : 2e-5);
      const logProbs = promptLogProbs(logits, prompt, golden.args.vocabSize);
      expect(maxAbsDiff(logProbs, goldenExpected.prompt_logprobs)).toBeLessThan(0.02);
    },
  );

  it('the golden model as Q8_0 equals its dequantised weights in f32, and stays near the golden', async () => {
    const path = await writeGoldenGGUF(scratch, 'golden-q8', golden, { type: 'Q8_0' });
    const { reader } = await openCheckpoint(path);
    const weights = await loadWeights(reader, golden.args, cpu, { storage: 'f32' });
    const dequantised = await Promise.all(
      golden.tensors.map(async (t) => ({ ...t, values: await tensorOf(weights, t.name).toFloat32() })),
    );
    await reader.close();
    const f32Path = await writeGoldenGGUF(scratch, 'golden-q8-dequantised', {
      args: golden.args,
      tensors: dequantised,
    });
    const q8Logits = await logitsOf(path);
    expect(maxAbsDiff(q8Logits, await logitsOf(f32Path))).toBeLessThan(2e-4);
    const logProbs = promptLogProbs(q8Logits, prompt, golden.args.vocabSize);
    // q8_0 rounds each weight to 1/254 of its block's largest (see load.test.ts: 0.3 for q8_0 storage)
    expect(maxAbsDiff(logProbs, goldenExpected.prompt_logprobs)).toBeLessThan(0.3);
  });

  describe('4-bit block formats load as they are, and compute what their dequantised weights do', () => {
    /** A model whose rows are 256 long (the k-quants' block), its weights smooth pseudo-random values. */
    const wide: GoldenModel = {
      args: { ...golden?.args } as GoldenModel['args'],
      tensors: [],
    };
    const tokens = [1, 17, 42, 5, 63, 8, 30];
    let wasm: Backend;
    beforeAll(async () => {
      wasm = await createBackend({ kind: 'wasm', threads: 1, log: null });
      const dim = 256;
      const shapes: [string, number[]][] = [
        ['tok_embeddings.weight', [64, dim]],
        ['norm.weight', [dim]],
        ['output.weight', [64, dim]],
        ['layers.0.attention_norm.weight', [dim]],
        ['layers.0.attention.wq.weight', [dim, dim]],
        ['layers.0.attention.wk.weight', [128, dim]],
        ['layers.0.attention.wv.weight', [128, dim]],
        ['layers.0.attention.wo.weight', [dim, dim]],
        ['layers.0.ffn_norm.weight', [dim]],
        ['layers.0.feed_forward.w1.weight', [dim, dim]],
        ['layers.0.feed_forward.w2.weight', [dim, dim]],
        ['layers.0.feed_forward.w3.weight', [dim, dim]],
      ];
      wide.tensors = shapes.map(([name, shape], t) => {
        const size = shape.reduce((a, b) => a * b, 1);
        const values = name.endsWith('norm.weight')
          ? new Float32Array(size).fill(1)
          : Float32Array.from({ length: size }, (_, i) => 0.1 * Math.sin(i * 0.7 + t) * Math.cos(i * 0.013 * (t + 1)));
        return { name, shape, values };
      });
      wide.args = {
        ...golden.args,
        dim,
        nLayers: 1,
        nHeads: 4,
        nKvHeads: 2,
        headDim: 64,
        ffnHiddenDim: dim,
        vocabSize: 64,
      };
    });
    afterAll(() => wasm.destroy());

    async function logits(path: string, backend: Backend, prompt: readonly number[]): Promise<Float32Array> {
      const model = await loadModel(path, { backend, maxSeqLen: 32 });
      try {
        return await model.forward([[...prompt]], 0, { logits: 'all' });
      } finally {
        model.dispose();
      }
    }

    it.each([
      ['Q4_0', 'the golden model'],
      ['Q4_K', 'a model with 256-long rows'],
    ] as const)('%s (%s) on cpu and wasm', async (type, _) => {
      const model = type === 'Q4_0' ? golden : wide;
      const prompt = type === 'Q4_0' ? goldenExpected.tokens : tokens;
      const path = await writeGoldenGGUF(scratch, `whole-${type}`, model, { type });
      const { reader } = await openCheckpoint(path);
      expect(reader.tensors.find((t) => t.name === 'layers.0.attention.wq.weight')?.dtype).toBe(type.toLowerCase());
      // The same stored values as f32: each tensor dequantised (float64, exact in f32) on load.
      const weights = await loadWeights(reader, model.args, cpu, { storage: 'f32' });
      const dequantised = await Promise.all(
        model.tensors.map(async (t) => ({ ...t, values: await tensorOf(weights, t.name).toFloat32() })),
      );
      await reader.close();
      const f32Path = await writeGoldenGGUF(scratch, `whole-${type}-dequantised`, { ...model, tensors: dequantised });
      for (const backend of [cpu, wasm]) {
        const quantised = await logits(path, backend, prompt);
        const reference = await logits(f32Path, backend, prompt);
        const vocab = model.args.vocabSize;
        expect(
          maxAbsDiff(promptLogProbs(quantised, prompt, vocab), promptLogProbs(reference, prompt, vocab)),
          `${type} on ${backend.kind}`,
        ).toBeLessThan(1e-4);
      }
    });
  });

  it('is sized by its real dtypes before loading: a Q8_0 file fits where its f16 twin does not', async () => {
    const args = { ...golden.args, maxSeqLen: 8 };
    const q8 = modelFootprint(args, 'q8_0').totalBytes;
    const f16 = modelFootprint(args, 'f16').totalBytes;
    const small = await createBackend({ kind: 'cpu' });
    Object.defineProperty(small, 'capacityBytes', { value: Math.round((q8 + f16) / 2) });
    try {
      const q8Path = await writeGoldenGGUF(scratch, 'fits-q8', golden, { type: 'Q8_0' });
      const model = await loadModel(q8Path, { backend: small, maxSeqLen: 8 });
      model.dispose();
      const f16Path = await writeGoldenGGUF(scratch, 'fits-f16', golden, { type: 'F16' });
      const refused = await loadModel(f16Path, { backend: small, maxSeqLen: 8 }).catch((e: unknown) => e);
      expect((refused as Error).message.startsWith(`${f16Path}: the model needs `)).toBe(true);
      expect((refused as Error).message).toMatch(/\(weights .* as stored, .*\) but the cpu backend holds at most/);
    } finally {
      small.destroy();
    }
  });

  it('ties output to token_embd when output.weight is absent', async () => {
    const embedding = golden.tensors.find((t) => t.name === 'tok_embeddings.weight');
    if (!embedding) throw new Error('no embedding');
    const tiedTensors = golden.tensors.map((t) => (t.name === 'output.weight' ? { ...embedding, name: t.name } : t));
    const untied = await writeGoldenGGUF(scratch, 'untied', { args: golden.args, tensors: tiedTensors });
    const tied = await writeGoldenGGUF(scratch, 'tied', golden, { tieEmbeddings: true });
    const header = await readGGUFHeader(tied);
    expect(header.tensors.some((t) => t.name === 'output.weight')).toBe(false);
    expect(await logitsOf(tied)).toEqual(await logitsOf(untied));
    // one tensor on the device, read once (a 1B model's embedding is a quarter of the file)
    const { args, reader } = await openCheckpoint(tied);
    const weights = await loadWeights(reader, args, cpu);
    await reader.close();
    expect(weights.output).toBe(weights.tokEmbeddings);
    const again = await openCheckpoint(tied);
    const stored = await loadWeights(again.reader, args, cpu, { storage: 'q8_0' });
    await again.reader.close();
    expect(stored.output).toBe(stored.tokEmbeddings);
  });

  it('applies Llama 3.1 scaling from rope_freqs.weight (divisors, as llama.cpp) and from rope.scaling linear', async () => {
    const { headDim, ropeTheta } = golden.args;
    const plain = ropeFrequencies(headDim, ropeTheta);
    const scaled = ropeFrequencies(headDim, ropeTheta, LLAMA31_ROPE_SCALING);
    const divisors = Array.from(plain, (f, i) => Math.fround(f / (scaled[i] as number)));
    const path = await writeGoldenGGUF(scratch, 'rope31', golden, { ropeFreqFactors: divisors });
    const { args, reader } = await openCheckpoint(path);
    await reader.close();
    expect(args.ropeFreqFactors).toEqual(divisors);
    const fromFile = ropeFrequencies(headDim, ropeTheta, args.ropeScaling, args.ropeFreqFactors);
    expect(
      maxAbsDiff(
        fromFile.map((f, i) => f / (scaled[i] as number)),
        new Array(headDim / 2).fill(1),
      ),
    ).toBeLessThan(1e-7);
    // The same weights as a Meta checkpoint with use_scaled_rope: the same logits.
    const metaDir = await writeMetaFromGolden(scratch, golden, { use_scaled_rope: true });
    const metaLogits = await logitsOf(metaDir);
    expect(maxAbsDiff(await logitsOf(path), metaLogits)).toBeLessThan(1e-4);
    expect(maxAbsDiff(metaLogits, goldenLogits)).toBeGreaterThan(1e-3); // the scaling matters here

    const linear = await writeGoldenGGUF(scratch, 'rope-linear', golden, {
      metadata: {
        'llama.rope.scaling.type': ggufValue.string('linear'),
        'llama.rope.scaling.factor': ggufValue.f32(4),
      },
    });
    const opened = await openCheckpoint(linear);
    await opened.reader.close();
    expect(opened.args.ropeFreqFactors).toEqual(new Array(headDim / 2).fill(4));
  });
});

describe('broken files', () => {
  let good: string;
  let goodBytes: Buffer;
  beforeAll(async () => {
    good = await writeGoldenGGUF(scratch, 'good', golden, { type: 'F16' });
    goodBytes = await readFile(good);
  });

  const variant = async (name: string, bytes: Uint8Array) => {
    const path = join(scratch, `${name}.gguf`);
    await writeFile(path, bytes);
    return path;
  };
  const rewrite = async (name: string, change: (m: Record<string, unknown>, t: GGUFTensorToWrite[]) => void) => {
    const metadata = await metadataOf(good);
    const tensors = await tensorsOf('good');
    change(metadata, tensors);
    const path = join(scratch, `${name}.gguf`);
    await writeGGUF(path, { metadata: metadata as GGUFMetadataToWrite, tensors });
    return path;
  };
  const fails = async (path: string, message: string | RegExp) => {
    const error = await openCheckpoint(path).then(
      (opened) => opened.reader.close().then(() => undefined),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  };

  it('a file that is not GGUF, or another version', async () => {
    await fails(await variant('not-gguf', Buffer.from('GGUX and more bytes')), /is a file but not a GGUF file/);
    const v1 = Buffer.from(goodBytes);
    v1.writeUInt32LE(1, 4);
    await fails(await variant('v1', v1), /\/v1\.gguf: GGUF version 1 is not supported; expected 2 or 3/);
  });

  it('truncated in the header, the metadata, the tensor infos and the data', async () => {
    const header = await readGGUFHeader(good);
    for (const [at, what] of [
      [10, /truncated while reading the tensor and metadata counts/],
      [200, /truncated while reading the type of metadata "llama\.block_count"/],
      [header.dataOffset - 20, /truncated while reading .*tensor "output\.weight"/],
    ] as const) {
      await fails(await variant(`cut-${at}`, goodBytes.subarray(0, at)), what);
    }
    const cut = join(scratch, 'cut-data.gguf');
    await writeFile(cut, goodBytes);
    await truncate(cut, goodBytes.length - 100);
    await fails(
      cut,
      /cut-data\.gguf: tensor "output\.weight": its 65536 bytes at offset \d+ end past the end of the file/,
    );
  });

  it('unknown and unsupported tensor types, named with the tensor', async () => {
    const header = await readGGUFHeader(good);
    const info = header.tensors.find((t) => t.name === 'blk.0.attn_q.weight');
    if (!info) throw new Error('no attn_q');
    // the tensor infos follow the metadata: find attn_q's type field after its name and dims
    const nameAt = goodBytes.indexOf(Buffer.from('blk.0.attn_q.weight'));
    const typeAt = nameAt + 'blk.0.attn_q.weight'.length + 4 + 2 * 8;
    const unknown = Buffer.from(goodBytes);
    unknown.writeUInt32LE(99, typeAt);
    await fails(await variant('type-99', unknown), /tensor "blk\.0\.attn_q\.weight": unknown ggml type 99/);

    const q5_0 = await rewrite('q5_0', (_, tensors) => {
      const q = tensors.find((t) => t.name === 'blk.0.attn_q.weight');
      if (q) Object.assign(q, { type: 'Q5_0', data: new Uint8Array(((64 * 64) / 32) * 22) });
    });
    await fails(
      q5_0,
      /tensor "blk\.0\.attn_q\.weight" is Q5_0; llama-ts does not support this type\. Loadable types: .*Q4_K/,
    );
  });

  it('a shape that does not match the metadata, a missing or an unknown tensor', async () => {
    const wrong = await rewrite('shape', (metadata) => {
      metadata['llama.feed_forward_length'] = ggufValue.u32(256);
    });
    await fails(
      wrong,
      /tensor "blk\.0\.ffn_gate\.weight" has shape \[224, 64\], but the metadata \(llama\.embedding_length, llama\.feed_forward_length\) gives \[256, 64\]/,
    );
    const missing = await rewrite('missing', (_, tensors) => {
      tensors.splice(
        tensors.findIndex((t) => t.name === 'blk.1.ffn_down.weight'),
        1,
      );
    });
    await fails(missing, /tensor "blk\.1\.ffn_down\.weight" \[64, 224\] is missing/);
    const extra = await rewrite('extra', (_, tensors) => {
      tensors.push({ name: 'blk.0.attn_q.bias', shape: [64], type: 'F32', data: new Uint8Array(256) });
    });
    await fails(extra, /unknown tensor "blk\.0\.attn_q\.bias"/);
  });

  it('an architecture other than llama, a mixture of experts, missing or mistyped metadata', async () => {
    await fails(
      await rewrite('qwen', (m) => {
        m['general.architecture'] = ggufValue.string('qwen2');
      }),
      /metadata "general\.architecture" is "qwen2"; only "llama" models/,
    );
    await fails(
      await rewrite('moe', (m) => {
        m['llama.expert_count'] = ggufValue.u32(8);
      }),
      /metadata "llama\.expert_count" is 8: a mixture of experts/,
    );
    await fails(
      await rewrite('no-heads', (m) => {
        delete m['llama.attention.head_count'];
      }),
      /no-heads\.gguf: metadata "llama\.attention\.head_count" is missing; expected an integer/,
    );
    await fails(
      await rewrite('eps-string', (m) => {
        m['llama.attention.layer_norm_rms_epsilon'] = ggufValue.string('1e-5');
      }),
      /metadata "llama\.attention\.layer_norm_rms_epsilon" is "1e-5" \(string\); expected a positive number/,
    );
    await fails(
      await rewrite('yarn', (m) => {
        m['llama.rope.scaling.type'] = ggufValue.string('yarn');
      }),
      /metadata "llama\.rope\.scaling\.type" is "yarn"/,
    );
    await fails(
      await rewrite('partial-rope', (m) => {
        m['llama.rope.dimension_count'] = ggufValue.u32(8);
      }),
      /metadata "llama\.rope\.dimension_count" is 8, but llama\.embedding_length \/ llama\.attention\.head_count is 16/,
    );
  });

  it('a NaN scale in a Q8_0 block is named with the tensor when loading', async () => {
    const path = await rewrite('nan-scale', (_, tensors) => {
      const q = tensors.find((t) => t.name === 'blk.0.attn_k.weight');
      if (!q) return;
      const values = new Float32Array(32 * 64).fill(0.5);
      q.type = 'Q8_0';
      q.data = encodeGGML(values, 'Q8_0');
      new DataView(q.data.buffer).setUint16(34 * 3, 0x7e00, true);
    });
    await expect(loadModel(path, { backend: cpu, maxSeqLen: 8 })).rejects.toThrow(
      /tensor layers\.0\.attention\.wk\.weight in .*nan-scale\.gguf: the scale of q8_0 block 3 is NaN/,
    );
  });

  it('reading after close fails naming the tensor', async () => {
    const { reader } = await openCheckpoint(good);
    await reader.close();
    await expect(reader.tensors[0]?.read()).rejects.toThrow(
      /cannot read tensor "token_embd\.weight": the checkpoint was closed/,
    );
  });

  it('streams a model onto the device tensor by tensor', async () => {
    const { args, reader } = await openCheckpoint(good);
    const sizes: number[] = [];
    const weights = await loadWeights(reader, args, cpu, { onProgress: (p) => sizes.push(p.loadedBytes) });
    await reader.close();
    expect(sizes).toHaveLength(reader.tensors.length);
    weights.output.dispose();
    expect(ggufParams(args).vocabSize).toBe(512);
  });
});

describe('onGGUFMetadata', () => {
  it('sees the metadata of the one reading of the header, before any tensor is read; what it throws stops the load', async () => {
    const path = await writeGoldenGGUF(scratch, 'with-metadata', golden, {
      metadata: { 'general.name': ggufValue.string('tiny golden') },
    });
    const events: string[] = [];
    const model = await loadModel(path, {
      backend: cpu,
      maxSeqLen: 8,
      onGGUFMetadata: (metadata) => {
        events.push(`metadata ${metadata.string('general.name')} ${metadata.path === path}`);
      },
      onProgress: () => events.push('tensor'),
    });
    model.dispose();
    expect(events[0]).toBe('metadata tiny golden true');
    expect(events.slice(1).every((event) => event === 'tensor')).toBe(true);
    expect(events.filter((event) => event.startsWith('metadata'))).toHaveLength(1);

    let tensors = 0;
    const refused = loadModel(path, {
      backend: cpu,
      maxSeqLen: 8,
      onGGUFMetadata: () => {
        throw new Error('no tokenizer I can use');
      },
      onProgress: () => tensors++,
    });
    await expect(refused).rejects.toThrow('no tokenizer I can use');
    expect(tensors).toBe(0);
  });

  it('is not called for a checkpoint folder', async () => {
    let called = false;
    const model = await loadModel(goldenDir, {
      backend: cpu,
      maxSeqLen: 8,
      onGGUFMetadata: () => {
        called = true;
      },
    });
    model.dispose();
    expect(called).toBe(false);
  });
});

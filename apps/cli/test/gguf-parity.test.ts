// Parity through the CLI (issue 14): `llama-ts complete --model FILE.gguf --prompt-tokens ... --echo
// --logprobs --json` on every backend, against a float64 forward pass over the weights the file
// holds, dequantised exactly. The golden tiny checkpoint goes as F32, F16, Q8_0 and Q4_0 (its rows,
// 64 and 224 wide, are whole 32-element blocks); the k-quants' blocks are 256 wide, wider than any
// of its rows, so Q4_K and Q6_K run on a random model 256 wide. Every log-prob is within
// max(0.02, 1.5 × llama.cpp's own deviation) of the reference's, and every greedy id is the
// reference's argmax (or, as the golden README allows, one within 0.05 of it: a near tie that float32
// may break either way). llama.cpp's deviation is modelled, not run: its CPU backend rounds the
// activations of a quantized matmul (vec_dot_type: Q8_0 blocks for Q8_0 and Q4_0, Q8_K for the
// k-quants), which the reference does too for those files; as the wasm backend decodes these formats
// on int8 activations, this is the bound it meets. For F32 and F16 the bound is 0.02.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bf16ToF32,
  createBackend,
  dequantizeExact,
  dequantizeQ8_0,
  f16ToF32,
  f32ToF16Bits,
  isBlockDType,
} from '@llama-ts/kernels';
import { type GGMLEncodableType, type ModelArgs, openCheckpoint, writeLlamaGGUF } from '@llama-ts/model';
import {
  acquireWebGPUForTests,
  goldenDir,
  goldenExpected,
  type ReferenceWeight,
  randomLlamaTensors,
  referenceLogits,
} from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const LOGPROB_ATOL = 0.02;
const NEAR_TIE = 0.05;
const GENERATED = 8;
const BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
const prompt = goldenExpected('tiny-meta-bf16').tokens;

interface SourceModel {
  args: ModelArgs;
  tensors: { name: string; shape: number[]; values: Float32Array }[];
}

/** The golden Meta checkpoint's weights as f32 (bf16 widens exactly). */
async function goldenModel(): Promise<SourceModel> {
  const { args, reader } = await openCheckpoint(goldenDir('tiny-meta-bf16'));
  const tensors = [];
  for (const tensor of reader.tensors) {
    const values = bf16ToF32(new Uint16Array((await tensor.read()).slice().buffer));
    tensors.push({ name: tensor.name, shape: tensor.shape, values });
  }
  await reader.close();
  return { args, tensors };
}

/** A random model whose rows are whole 256-element k-quant blocks; the output scaled for clear preferences. */
function wideModel(golden: ModelArgs): SourceModel {
  const sizes = { dim: 256, nLayers: 1, nHeads: 4, nKvHeads: 2, vocabSize: golden.vocabSize, ffnHiddenDim: 512 };
  const tensors = randomLlamaTensors(sizes, 7).map((t) =>
    t.name === 'output.weight' ? { ...t, values: t.values.map((v) => v * 6) } : t,
  );
  return { args: { ...golden, ...sizes, headDim: 64 }, tensors };
}

/** The weights a GGUF file holds, dequantised exactly, by Meta name. */
async function dequantisedWeights(path: string): Promise<{ args: ModelArgs; weights: Map<string, ReferenceWeight> }> {
  const { args, reader } = await openCheckpoint(path);
  const weights = new Map<string, ReferenceWeight>();
  for (const tensor of reader.tensors) {
    const bytes = (await tensor.read()).slice();
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    const { dtype } = tensor;
    weights.set(
      tensor.name,
      dtype === 'f32'
        ? new Float32Array(bytes.buffer)
        : dtype === 'f16'
          ? f16ToF32(new Uint16Array(bytes.buffer))
          : dtype === 'q8_0'
            ? dequantizeQ8_0(bytes, elements)
            : isBlockDType(dtype)
              ? dequantizeExact(dtype, bytes, elements)
              : (() => {
                  throw new Error(`no dequantisation for ${dtype}`);
                })(),
    );
  }
  await reader.close();
  return { args, weights };
}

/** ggml's quantize_row_q8_0_ref and back: per 32 values d = amax / 127 (kept as f16), q = roundf(x / d). */
function roundToQ8_0(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let block = 0; block < x.length; block += 32) {
    let amax = 0;
    for (let i = block; i < block + 32; i++) amax = Math.max(amax, Math.abs(x[i] as number));
    const d = Math.fround(amax / 127);
    const id = d === 0 ? 0 : Math.fround(1 / d);
    const storedD = f16ToF32(Uint16Array.of(f32ToF16Bits(d)))[0] as number;
    for (let i = block; i < block + 32; i++) {
      const v = Math.fround((x[i] as number) * id);
      out[i] = Math.sign(v) * Math.floor(Math.abs(v) + 0.5) * storedD;
    }
  }
  return out;
}

/**
 * ggml's quantize_row_q8_K_ref and back (the k-quants' vec_dot_type): per 256 values, the one of
 * largest magnitude (max) sets iscale = -128 / max, q = min(127, nearest(iscale · x)), x ≈ q / iscale.
 */
function roundToQ8_K(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let block = 0; block < x.length; block += 256) {
    let max = 0;
    for (let i = block; i < Math.min(x.length, block + 256); i++) {
      if (Math.abs(x[i] as number) > Math.abs(max)) max = x[i] as number;
    }
    if (max === 0) continue;
    const iscale = Math.fround(-128 / max);
    const d = Math.fround(1 / iscale);
    for (let i = block; i < Math.min(x.length, block + 256); i++) {
      out[i] = Math.min(127, Math.round(Math.fround(iscale * (x[i] as number)))) * d;
    }
  }
  return out;
}

/**
 * How llama.cpp's CPU backend rounds a file's matmul activations (its vec_dot_type): Q8_0 blocks for
 * Q8_0 and Q4_0, Q8_K for the k-quants. The wasm backend's decode also runs these formats on int8
 * activations (per block of 32).
 */
const LLAMA_CPP_ACTIVATIONS: Record<string, (x: Float64Array) => Float64Array> = {
  Q8_0: roundToQ8_0,
  Q4_0: roundToQ8_0,
  Q4_K: roundToQ8_K,
  Q6_K: roundToQ8_K,
};

function logSoftmax(logits: Float64Array): Float64Array {
  const max = Math.max(...logits);
  const logSum = Math.log(logits.reduce((sum, x) => sum + Math.exp(x - max), 0)) + max;
  return logits.map((x) => x - logSum);
}

let scratch: string;
const files = new Map<string, string>();
let webgpu: { available: true } | { available: false; reason: string };

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'llama-ts-gguf-parity-'));
  const golden = await goldenModel();
  const wide = wideModel(golden.args);
  const plan: [SourceModel, GGMLEncodableType[]][] = [
    [golden, ['F32', 'F16', 'Q8_0', 'Q4_0']],
    [wide, ['Q4_K', 'Q6_K']],
  ];
  for (const [model, types] of plan) {
    for (const type of types) {
      const path = join(scratch, `${type}.gguf`);
      await writeLlamaGGUF(path, { params: { ...model.args, contextLength: 64 }, tensors: model.tensors, type });
      files.set(type, path);
    }
  }
  const acquired = await acquireWebGPUForTests(async () => {
    const backend = await createBackend({ kind: 'webgpu' });
    backend.destroy();
    return true;
  });
  webgpu = acquired.available ? { available: true } : acquired;
}, 120_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('complete --model FILE.gguf against float64 over the dequantised weights', () => {
  const cases = ['F32', 'F16', 'Q8_0', 'Q4_0', 'Q4_K', 'Q6_K'].flatMap((type) =>
    BACKENDS.map((backend) => [type, backend] as const),
  );
  it.for(cases)('%s on %s', async ([type, backend], context) => {
    if (backend === 'webgpu' && !webgpu.available) context.skip(webgpu.reason);
    const path = files.get(type) as string;
    const result = await runCli(
      [
        'complete',
        '--model',
        path,
        '--backend',
        backend,
        '--prompt-tokens',
        prompt.join(','),
        '--temperature',
        '0',
        '--max-gen-len',
        String(GENERATED),
        '--echo',
        '--logprobs',
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    // (Dawn, WebGPU's native library, prints its own warnings about adapter limits)
    expect(result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('Warning: '))).toEqual([]);
    const { token_ids: ids, logprobs } = JSON.parse(result.stdout) as { token_ids: number[]; logprobs: number[] };
    expect(ids.slice(0, prompt.length)).toEqual(prompt);
    expect(ids).toHaveLength(prompt.length + GENERATED);

    const { args, weights } = await dequantisedWeights(path);
    const logits = referenceLogits(weights, args, ids.slice(0, -1));
    const want = logits.map((row, i) => logSoftmax(row)[ids[i + 1] as number] as number);
    let tolerance = LOGPROB_ATOL;
    const activations = LLAMA_CPP_ACTIVATIONS[type];
    if (activations) {
      const llamaCpp = referenceLogits(weights, args, ids.slice(0, -1), { activations });
      const deviation = Math.max(
        ...llamaCpp.map((row, i) => Math.abs((logSoftmax(row)[ids[i + 1] as number] as number) - (want[i] as number))),
      );
      tolerance = Math.max(LOGPROB_ATOL, 1.5 * deviation);
    }
    for (let i = 1; i < ids.length; i++) {
      const row = logits[i - 1] as Float64Array;
      expect(Math.abs((logprobs[i] as number) - (want[i - 1] as number)), `log-prob of token ${i}`).toBeLessThanOrEqual(
        tolerance,
      );
      if (i >= prompt.length) {
        // greedy: the reference's argmax, or within a near tie of it
        expect(Math.max(...row) - (row[ids[i] as number] as number), `greedy token ${i}`).toBeLessThan(NEAR_TIE);
      }
    }
  });
});

// Weights quantised on load to llama.cpp's 4-bit formats (--weight-storage q4_0 | q4_k): the same
// model in q4_0 and q4_k against itself in f32, through the whole forward pass, on cpu and wasm.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Backend, createBackend, type WeightDType } from '@llama-ts/kernels';
import { sharedPath } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argsFromMetaParams, loadModel, type PthTensorToWrite, writePthCheckpoint } from '../src/index.js';
import { expectedShapes } from '../src/shapes.js';

/** A Llama-shaped model whose every matrix row is a multiple of 256 (the k-quants' block). */
const PARAMS = {
  dim: 256,
  n_layers: 2,
  n_heads: 4,
  n_kv_heads: 2,
  vocab_size: 512,
  multiple_of: 256,
  norm_eps: 1e-5,
  rope_theta: 500000,
};
const PROMPT = [1, 17, 300, 42, 511, 7, 99, 256, 3, 128, 64, 400];

let scratch: string;
let folder: string;
let cpu: Backend;
let wasm: Backend;

/** Seeded uniform weights: rows of about unit norm, the output's three times larger so log-probs spread over 5 nats. */
function randomModel(): PthTensorToWrite[] {
  let state = 12345;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const args = argsFromMetaParams(PARAMS);
  return [...expectedShapes(args)].map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    if (shape.length === 1) values.fill(1);
    else {
      const scale = (name === 'output.weight' ? 3 : 1) / Math.sqrt(shape[1] as number);
      for (let i = 0; i < n; i++) values[i] = (2 * random() - 1) * scale;
    }
    return { name, shape, dtype: 'f32', data: new Uint8Array(values.buffer) };
  });
}

async function logProbs(on: Backend, weightStorage: 'f32' | WeightDType): Promise<number[]> {
  const model = await loadModel(folder, { backend: on, maxSeqLen: 32, weightStorage });
  try {
    const logits = await model.forward([PROMPT], 0, { logits: 'all' });
    const vocab = PARAMS.vocab_size;
    return PROMPT.slice(1).map((next, t) => {
      const row = logits.subarray(t * vocab, (t + 1) * vocab);
      const max = Math.max(...row);
      return (row[next] as number) - max - Math.log(row.reduce((sum, v) => sum + Math.exp(v - max), 0));
    });
  } finally {
    model.dispose();
  }
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'llama-ts-quantised-'));
  folder = join(scratch, 'model');
  await mkdir(folder);
  await writeFile(join(folder, 'params.json'), JSON.stringify(PARAMS));
  await writePthCheckpoint(join(folder, 'consolidated.00.pth'), randomModel());
  cpu = await createBackend({ kind: 'cpu' });
  wasm = await createBackend({ kind: 'wasm', threads: 2 });
});

afterAll(async () => {
  cpu?.destroy();
  wasm?.destroy();
  await rm(scratch, { recursive: true, force: true });
});

describe('4-bit weight storage, quantised on load', () => {
  // Measured on this model (log-probs spread over 5 nats), max |Δ log-prob| against f32: q8_0
  // 0.042, q6_k 0.12, q5_k 0.25, q4_0 0.52, q4_k 0.62, q4_1 0.65, the same on cpu and wasm. They
  // follow each format's weight error (relative RMS on uniform weights, quant/quantize.ts: q8_0
  // 0.38 %, q6_k 1.3 %, q5_k 2.8 %, q4_k 5.5 %, q4_1 6.1 %, q4_0 6.5 %): a random model has no
  // redundancy to absorb it, so the bounds are the measured figures with ~1.6x margin, which a
  // wrong layout, scale or offset (errors of whole nats) still fails by far.
  it.for([
    ['cpu', 'q4_0', 1],
    ['cpu', 'q4_k', 1],
    ['wasm', 'q4_0', 1],
    ['wasm', 'q4_k', 1],
    ['wasm', 'q4_1', 1],
    ['wasm', 'q5_k', 0.4],
    ['wasm', 'q6_k', 0.2],
    ['wasm', 'q8_0', 0.07],
  ] as const)('on %s, %s log-probs are within %s of f32', async ([on, storage, tolerance]) => {
    const backend = on === 'cpu' ? cpu : wasm;
    const reference = await logProbs(backend, 'f32');
    const quantised = await logProbs(backend, storage);
    const spread = Math.max(...reference) - Math.min(...reference);
    expect(spread, 'the model is not trivially uniform').toBeGreaterThan(3);
    const worst = Math.max(...reference.map((r, i) => Math.abs(r - (quantised[i] as number))));
    expect(worst).toBeGreaterThan(0); // really quantised
    expect(worst).toBeLessThan(tolerance);
  });

  it('q4_k storage of rows that are not a multiple of 256 is refused, naming the tensor', async () => {
    const golden = sharedPath('golden', 'tiny-meta-bf16'); // dim 64
    await expect(loadModel(golden, { backend: cpu, maxSeqLen: 32, weightStorage: 'q4_k' })).rejects.toThrow(
      /tensor tok_embeddings\.weight: q4_k storage needs rows whose length is a multiple of 256, got \[512, 64\]/,
    );
  });
});

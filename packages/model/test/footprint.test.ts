// A model too big for the backend's capacity (the wasm backend's 4 GiB wasm32 memory) is refused
// with one line naming its size, the limit and what to do, before any checkpoint file is opened:
// these folders hold only a params.json.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { type Backend, createBackend } from '@llama-ts/kernels';
import { readSharedJson } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argsFromMetaParams, loadModel, ModelError, modelFootprint } from '../src/index.js';

/** Llama 3.2 3B's params.json (with output.weight untied): 3.6 B parameters, 6.7 GiB as f16, 3.6 GiB as q8_0. */
const LLAMA_3B = {
  dim: 3072,
  ffn_dim_multiplier: 1.0,
  multiple_of: 256,
  n_heads: 24,
  n_kv_heads: 8,
  n_layers: 28,
  norm_eps: 1e-5,
  rope_theta: 500000.0,
  vocab_size: 128256,
};
/** Llama 3 8B's: 15 GiB as f16, 7.95 GiB as q8_0. */
const LLAMA_8B = { ...LLAMA_3B, dim: 4096, ffn_dim_multiplier: 1.3, multiple_of: 1024, n_heads: 32, n_layers: 32 };

let wasm: Backend;
let cpu: Backend;
let scratch: string;

async function paramsOnly(params: unknown): Promise<string> {
  const dir = await mkdtemp(join(scratch, 'params-only-'));
  await writeFile(join(dir, 'params.json'), JSON.stringify(params));
  return dir;
}

beforeAll(async () => {
  wasm = await createBackend({ kind: 'wasm', threads: 1, log: null });
  cpu = await createBackend({ kind: 'cpu' });
  scratch = await mkdtemp(join(tmpdir(), 'llama-ts-footprint-'));
});

afterAll(() => {
  wasm.destroy();
  cpu.destroy();
});

describe('modelFootprint', () => {
  it('counts weights at the chosen storage, the KV cache and a decode step', () => {
    const args = argsFromMetaParams(LLAMA_8B, { maxSeqLen: 2048 });
    const f16 = modelFootprint(args, 'f16');
    expect(f16.weightBytes / 2 ** 30).toBeCloseTo(14.96, 1); // 8.03 B parameters
    expect(modelFootprint(args, 'q8_0').weightBytes / f16.weightBytes).toBeCloseTo(34 / 64, 3);
    expect(modelFootprint(args, 'auto').weightBytes).toBe(f16.weightBytes); // before the checkpoint is open
    expect(modelFootprint(args, 'auto', () => 'f32').weightBytes).toBe(modelFootprint(args, 'f32').weightBytes);
    expect(f16.kvCacheBytes).toBe(2 * 32 * 2048 * 8 * 128 * 4); // 1 GiB
    expect(f16.totalBytes).toBe(f16.weightBytes + f16.kvCacheBytes + f16.activationBytes);
  });
});

describe('a model too big for the wasm backend', () => {
  it('is refused by loadModel before its checkpoint is opened, naming size, limit and what to do', async () => {
    const dir = await paramsOnly(LLAMA_3B);
    const load = loadModel(dir, { backend: wasm, maxSeqLen: 1024 });
    await expect(load).rejects.toThrow(ModelError);
    await expect(loadModel(dir, { backend: wasm, maxSeqLen: 1024 })).rejects.toThrow(
      /^.*params-only-\w+\/params\.json: the model needs 6\.9\d GiB \(weights 6\.7\d GiB at least f16, KV cache 224\.0 MiB for 1 × 1024 positions, activations 1\.\d MiB\) but the wasm backend holds at most 4\.00 GiB; store the weights as q8_0 \(--weight-storage q8_0\), or use the webgpu backend$/,
    );
  });

  it('passes the check as q8_0 (then says the folder has no weights)', async () => {
    const dir = await paramsOnly(LLAMA_3B);
    await expect(loadModel(dir, { backend: wasm, maxSeqLen: 1024, weightStorage: 'q8_0' })).rejects.toThrow(
      /has params\.json but no consolidated\.NN\.pth checkpoint/,
    );
  });

  it('suggests only what would help: webgpu for 8B, a shorter context for a huge KV cache', async () => {
    const dir = await paramsOnly(LLAMA_8B);
    await expect(loadModel(dir, { backend: wasm, maxSeqLen: 2048, weightStorage: 'q8_0' })).rejects.toThrow(
      /needs 8\.45 GiB \(weights 7\.95 GiB q8_0, .*at most 4\.00 GiB; n_layers 32 × dim 4096 \(ffn 14336\) make 7\.95 GiB of weights even as q8_0; use the webgpu backend$/,
    );
    const small = await paramsOnly({ ...LLAMA_3B, n_layers: 4 });
    await expect(loadModel(small, { backend: wasm, maxSeqLen: 131072, weightStorage: 'q8_0' })).rejects.toThrow(
      /KV cache 4\.00 GiB for 1 × 131072 positions.*; use a smaller --max-seq-len or --max-batch-size, or use the webgpu backend$/,
    );
  });

  it("names a Hugging Face config.json's own fields, before the safetensors are looked for", async () => {
    const dir = await mkdtemp(join(scratch, 'config-only-'));
    const config = readSharedJson<object>('golden', 'tiny-hf-f16', 'config.json');
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 1e9 }));
    await expect(loadModel(dir, { backend: wasm, maxSeqLen: 32 })).rejects.toThrow(
      /^.*config-only-\w+\/config\.json: the model needs [\d.]+ TiB .* but the wasm backend holds at most 4\.00 GiB; num_hidden_layers 1000000000 × hidden_size 96 \(intermediate_size 288\) make [\d.]+ TiB of weights even as q8_0; use the webgpu backend$/,
    );
  });

  it("is held on the cpu backend against this machine's memory, not 4 GiB", async () => {
    const dir = await paramsOnly(LLAMA_8B);
    const load = loadModel(dir, { backend: cpu, maxSeqLen: 2048 });
    const need = modelFootprint(argsFromMetaParams(LLAMA_8B, { maxSeqLen: 2048 }), 'auto').totalBytes;
    if (need <= totalmem()) await expect(load).rejects.toThrow(/no consolidated\.NN\.pth/);
    else await expect(load).rejects.toThrow(/but this machine's memory holds at most [\d.]+ GiB$/);
  });
});

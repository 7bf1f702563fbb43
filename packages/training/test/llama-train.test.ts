// The training forward/backward through a whole tiny Llama: its loss equals the inference model's,
// its gradients match central finite differences, CPU, WebGPU and wasm (1, 2, 3 threads) agree, and
// Adam steps overfit a batch.
import { adamwStep, type Backend, createBackend, fromArray, type Tensor } from '@llama-ts/kernels';
import { argsFromMetaParams, expectedShapes, loadWeights, Transformer } from '@llama-ts/model';
import { acquireWebGPUForTests } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from '../src/data.js';
import { initParameters } from '../src/init.js';
import { LlamaTrainer } from '../src/llama-train.js';

const params = {
  dim: 16,
  n_layers: 2,
  n_heads: 4,
  n_kv_heads: 2,
  vocab_size: 11,
  multiple_of: 8,
  norm_eps: 1e-5,
  rope_theta: 10000,
  max_seq_len: 6,
};
const args = argsFromMetaParams(params, { maxBatchSize: 2 });
const batch: Batch = {
  batchSize: 2,
  seqLen: 6,
  x: Int32Array.from([9, 1, 2, 3, 4, 5, 9, 6, 7, 8, 1, 2]),
  y: Int32Array.from([1, 2, 3, 4, 5, 10, 6, 7, 8, 1, 2, 10]),
};
// Larger than GPT-2's 0.02 so that the loss depends on every weight visibly (finite differences).
const initial = initParameters(args, { seed: 7, scheme: { kind: 'normal', std: 0.3, scaleResidual: false } });

let cpu: Backend;
let gpu: Backend | undefined;
let skip = '';

beforeAll(async () => {
  cpu = await createBackend({ kind: 'cpu' });
  const availability = await acquireWebGPUForTests(() => createBackend({ kind: 'webgpu', log: null }));
  if (availability.available) gpu = availability.value;
  else skip = availability.reason;
});

afterAll(() => {
  cpu.destroy();
  gpu?.destroy();
});

async function gradientsOn(
  backend: Backend,
  values = initial,
): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const trainer = new LlamaTrainer(backend, args, values);
  const loss = await trainer.lossAndGradients(batch);
  const grads = new Map<string, Float32Array>();
  for (const [name, g] of trainer.gradients) grads.set(name, await g.toFloat32());
  trainer.dispose();
  return { loss, grads };
}

describe('LlamaTrainer', () => {
  it("computes the same loss as the inference Transformer's logits", async () => {
    const trainer = new LlamaTrainer(cpu, args, initial);
    const loss = await trainer.loss(batch);
    trainer.dispose();
    const shapes = expectedShapes(args);
    const reader = {
      tensors: [...initial].map(([name, values]) => ({
        name,
        shape: shapes.get(name) as number[],
        dtype: 'f32' as const,
        byteLength: values.byteLength,
        source: 'test',
        read: async () => new Uint8Array(values.buffer.slice(0)),
      })),
      close: async () => {},
    };
    const model = new Transformer(args, await loadWeights(reader, args, cpu, { storage: 'f32' }), cpu);
    const rows = [Array.from(batch.x.slice(0, 6)), Array.from(batch.x.slice(6))];
    const logits = await model.forward(rows, 0, { logits: 'all' });
    model.dispose();
    let total = 0;
    for (let r = 0; r < 12; r++) {
      const row = logits.subarray(r * 11, (r + 1) * 11);
      const max = Math.max(...row);
      const logSum = Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max;
      total += logSum - (row[batch.y[r] as number] as number);
    }
    expect(Math.abs(loss - total / 12)).toBeLessThan(1e-5);
  });

  it('has gradients that match central finite differences for every parameter tensor', async () => {
    const { grads } = await gradientsOn(cpu);
    const trainer = new LlamaTrainer(cpu, args, initial);
    const h = 1e-2;
    let checked = 0;
    for (const [name, values] of initial) {
      const grad = grads.get(name) as Float32Array;
      expect(grad, name).toBeDefined();
      // A few elements per tensor, spread out.
      for (let i = 0; i < values.length; i += Math.max(1, Math.floor(values.length / 3))) {
        const param = trainer.params.get(name) as Tensor;
        const probe = async (delta: number) => {
          const copy = Float32Array.from(values);
          copy[i] = (copy[i] as number) + delta;
          cpu.write(param, new Uint8Array(copy.buffer));
          return trainer.loss(batch);
        };
        const numeric = ((await probe(h)) - (await probe(-h))) / (2 * h);
        cpu.write(param, new Uint8Array(Float32Array.from(values).buffer));
        // f32 losses differenced over h = 1e-2: ~1e-5 rounding plus O(h²) curvature.
        expect(
          Math.abs(numeric - (grad[i] as number)),
          `${name}[${i}]: numeric ${numeric}, analytic ${grad[i]}`,
        ).toBeLessThan(2e-3 + 0.05 * Math.abs(numeric));
        checked++;
      }
    }
    trainer.dispose();
    expect(checked).toBeGreaterThan(40);
  });

  /** The loss and every gradient on `backend` equal the CPU's to f32 summation-order rounding. */
  async function expectCpuGradientsOn(backend: Backend): Promise<void> {
    const a = await gradientsOn(cpu);
    const b = await gradientsOn(backend);
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
    for (const [name, g] of a.grads) {
      const other = b.grads.get(name) as Float32Array;
      let worst = 0;
      for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs((g[i] as number) - (other[i] as number)));
      expect(worst, name).toBeLessThan(1e-5);
    }
  }

  it('gives the same loss and gradients on WebGPU as on the CPU', async (context) => {
    if (!gpu) return context.skip(skip);
    await expectCpuGradientsOn(gpu);
  });

  it.each([1, 2, 3])('gives the same loss and gradients on wasm (%i threads) as on the CPU', async (threads) => {
    const wasm = await createBackend({ kind: 'wasm', threads, minWorkPerThread: 1, log: null });
    try {
      await expectCpuGradientsOn(wasm);
    } finally {
      wasm.destroy();
    }
  });

  it('overfits one batch with Adam', async () => {
    const trainer = new LlamaTrainer(cpu, args, initial);
    const state = new Map<string, { m: Tensor; v: Tensor }>();
    for (const [name, p] of trainer.params) {
      state.set(name, {
        m: fromArray(cpu, new Float32Array(p.size), p.shape),
        v: fromArray(cpu, new Float32Array(p.size), p.shape),
      });
    }
    const first = await trainer.lossAndGradients(batch);
    let last = first;
    for (let step = 1; step <= 40; step++) {
      for (const [name, p] of trainer.params) {
        const { m, v } = state.get(name) as { m: Tensor; v: Tensor };
        adamwStep(p, trainer.gradients.get(name) as Tensor, m, v, {
          lr: 1e-2,
          beta1: 0.9,
          beta2: 0.99,
          eps: 1e-8,
          weightDecay: 0,
          step,
        });
      }
      last = await trainer.lossAndGradients(batch);
    }
    trainer.dispose();
    expect(first).toBeGreaterThan(1.5);
    expect(last).toBeLessThan(first / 4);
  });
});

// Backend semantics every op relies on, on every backend: zeroed allocation (also from a pooled
// buffer), writes ordered after the dispatches recorded before them, and chains of ops read once.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/cpu/backend.js';
import { add, fromArray, matmul, rmsNorm, swiglu, zeros } from '../src/node.js';
import { expectClose, OP_BACKENDS, rngFor, uniform, useBackends } from './harness.js';
import { addRef, matmulRef, rmsNormRef, swigluRef } from './reference.js';
import { TOLERANCE } from './tolerances.js';

const backends = useBackends(OP_BACKENDS);

describe.each(OP_BACKENDS)('on %s', (name) => {
  it('zeros() is zero, also when its storage is a reused buffer', async (context) => {
    const backend = backends.get(name, context);
    for (let round = 0; round < 3; round++) {
      const dirty = fromArray(backend, new Float32Array(300).fill(42), [300]);
      await dirty.toFloat32();
      dirty.dispose();
      const z = zeros(backend, [300]);
      expect(Array.from(await z.toFloat32()).every((v) => v === 0)).toBe(true);
      z.dispose();
    }
    expect(Array.from(await zeros(backend, [3, 5], 'i32').toFloat32())).toEqual(new Array(15).fill(0));
  });

  it('reshape views the same storage; only the base frees it', async (context) => {
    const backend = backends.get(name, context);
    const base = fromArray(backend, [1, 2, 3, 4, 5, 6], [2, 3]);
    const view = base.reshape([3, 2]);
    expect(view.shape).toEqual([3, 2]);
    const doubled = add(view, view);
    expect(Array.from(await doubled.toFloat32())).toEqual([2, 4, 6, 8, 10, 12]);
    view.dispose();
    expect(base.disposed).toBe(false);
    expect(Array.from(await base.toFloat32())).toEqual([1, 2, 3, 4, 5, 6]);
    const other = base.reshape([6]);
    base.dispose();
    expect(other.disposed).toBe(true);
    expect(() => base.reshape([4])).toThrow(/reshape: .* has 6 elements, \[4\] has 4/);
  });

  it('fromArray / toFloat32 round trip of every dtype', async (context) => {
    const backend = backends.get(name, context);
    const values = uniform(rngFor('round trip'), 3 * 64);
    for (const dtype of ['f32', 'f16', 'q8_0'] as const) {
      const t = fromArray(backend, values, [3, 64], dtype);
      expect(t.dtype).toBe(dtype);
      expect(t.shape).toEqual([3, 64]);
      const back = await t.toFloat32();
      // Reading a tensor back gives the same values as the CPU-side dequantisation.
      const cpu = await fromArray(new CpuBackend(), values, [3, 64], dtype).toFloat32();
      expect(Array.from(back)).toEqual(Array.from(cpu));
    }
    const ids = Int32Array.from([0, -1, 7, 128255, -16777216]);
    expect(Array.from(await fromArray(backend, ids, [5], 'i32').toFloat32())).toEqual(Array.from(ids));
  });

  it('fromArray stores i32 values exactly, also beyond 2^24', async (context) => {
    const backend = backends.get(name, context);
    const ids = Int32Array.from([16777217, 2147483647, -2147483647, 123456789]);
    const bytes = await backend.read(fromArray(backend, ids, [4], 'i32'));
    expect(Array.from(new Int32Array(bytes.buffer, bytes.byteOffset, 4))).toEqual(Array.from(ids));
  });

  it('disposing more same-size tensors than the pool keeps, before anything is submitted, is safe', async (context) => {
    // A training step disposes many same-size intermediates before its first read: the buffers past
    // the pool's limit must not be destroyed while recorded work still uses them.
    const backend = backends.get(name, context);
    const x = fromArray(backend, [1, 2, 3, 4], [4]);
    const outputs = Array.from({ length: 20 }, () => add(x, x));
    for (const y of outputs) y.dispose();
    expect(Array.from(await add(x, x).toFloat32())).toEqual([2, 4, 6, 8]);
  });

  it('a write is ordered after the dispatches recorded before it', async (context) => {
    const backend = backends.get(name, context);
    const a = fromArray(backend, [1, 2, 3], [3]);
    const b = fromArray(backend, [10, 20, 30], [3]);
    const before = add(a, b); // recorded, not yet run on WebGPU
    backend.write(a, new Uint8Array(Float32Array.from([100, 200, 300]).buffer));
    const after = add(a, b);
    expect(Array.from(await after.toFloat32())).toEqual([110, 220, 330]);
    expect(Array.from(await before.toFloat32())).toEqual([11, 22, 33]);
  });

  it('a chain of ops read once at the end (a Llama feed-forward block)', async (context) => {
    const backend = backends.get(name, context);
    const rng = rngFor('chain');
    const [T, D, F] = [3, 64, 96];
    const x = uniform(rng, T * D);
    const norm = uniform(rng, D, 0.5, 1.5);
    const wGate = uniform(rng, F * D, -0.2, 0.2);
    const wUp = uniform(rng, F * D, -0.2, 0.2);
    const wDown = uniform(rng, D * F, -0.2, 0.2);
    const xt = fromArray(backend, x, [T, D]);
    const h = rmsNorm(xt, fromArray(backend, norm, [D]), 1e-5);
    const gate = matmul(h, fromArray(backend, wGate, [F, D]));
    const up = matmul(h, fromArray(backend, wUp, [F, D]));
    const down = matmul(swiglu(gate, up), fromArray(backend, wDown, [D, F]));
    const y = add(xt, down);
    // Reference, stage by stage in float64 (each stage's tolerance dominates the f32 rounding of the
    // previous stage's output, which the kernels also see).
    const hRef = rmsNormRef(x, norm, T, D, 1e-5);
    const gRef = matmulRef(hRef, wGate, T, F, D).y;
    const uRef = matmulRef(hRef, wUp, T, F, D).y;
    const dRef = matmulRef(swigluRef(gRef, uRef), wDown, T, D, F).y;
    const yRef = addRef(x, dRef);
    expectClose(await y.toFloat32(), yRef, TOLERANCE.matmul(F), {
      op: 'rmsNorm→matmul→swiglu→matmul→add',
      backend: name,
      label: '',
      shape: [T, D],
    });
  });
});

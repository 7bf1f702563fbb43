// The op front ends reject wrong shapes, dtypes and parameters with a KernelError that names the op,
// the argument and the expectation, before anything reaches a backend. (The checks are the same for
// every backend, so they run on the CPU backend.)
import { describe, expect, it } from 'vitest';
import {
  add,
  argmax,
  attention,
  type Backend,
  cacheRows,
  createBackend,
  embedding,
  fromArray,
  fromBytes,
  KernelError,
  kvWrite,
  logSoftmaxGather,
  matmul,
  matmulSwiglu,
  rmsNorm,
  rope,
  ropeTable,
  softmax,
  swiglu,
  zeros,
} from '../src/node.js';

const cpu: Backend = await createBackend({ kind: 'cpu' });
const other: Backend = await createBackend({ kind: 'cpu' });
const f32 = (shape: number[], backend = cpu) => zeros(backend, shape);

/** Expects `fn` to throw a KernelError whose message contains every fragment. */
function expectKernelError(fn: () => unknown, ...fragments: string[]): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected a KernelError containing ${fragments.join(' … ')}`).toBeInstanceOf(KernelError);
  const message = (thrown as Error).message;
  for (const fragment of fragments) expect(message).toContain(fragment);
  expect((thrown as Error).name).toBe('KernelError');
}

describe('createBackend', () => {
  it('rejects an unknown kind', async () => {
    await expect(createBackend({ kind: 'gpu' as never })).rejects.toThrow(KernelError);
    await expect(createBackend({ kind: 'gpu' as never })).rejects.toThrow(
      /kind must be 'webgpu', 'wasm', 'cpu' or 'auto', got "gpu"/,
    );
  });
});

describe('tensor creation', () => {
  it('fromArray: values must fill the shape', () => {
    expectKernelError(() => fromArray(cpu, [1, 2, 3], [2, 2]), 'fromArray', '3 values', '[2, 2]', '4 elements');
  });
  it('fromArray: q8_0 needs a last dimension that is a multiple of 32', () => {
    expectKernelError(
      () => fromArray(cpu, new Float32Array(2 * 48), [2, 48], 'q8_0'),
      'q8_0',
      'multiple of 32',
      '[2, 48]',
    );
  });
  it('fromBytes: the byte length must match the dtype and shape', () => {
    expectKernelError(() => fromBytes(cpu, new Uint8Array(6), [3], 'f32'), 'fromBytes', 'f32[3]', '12 bytes', 'got 6');
  });
  it('allocate: rejects negative and fractional dims', () => {
    expectKernelError(() => zeros(cpu, [2, -1]), 'allocate', 'invalid shape');
    expectKernelError(() => zeros(cpu, [1.5]), 'allocate', 'invalid shape');
  });
});

describe('common checks', () => {
  it('all tensors must live on the same backend', () => {
    expectKernelError(() => matmul(f32([1, 4]), f32([2, 4], other)), 'matmul', 'same backend');
    expectKernelError(() => add(f32([3]), f32([3], other)), 'add', 'same backend');
  });
  it('a disposed tensor is rejected', () => {
    const x = f32([1, 4]);
    x.dispose();
    expectKernelError(() => matmul(x, f32([2, 4])), 'matmul', 'x has been disposed');
  });
});

describe('matmul', () => {
  it('K mismatch names w.shape[1] (K)', () => {
    expectKernelError(() => matmul(f32([2, 4]), f32([3, 5])), 'matmul', 'w.shape[1] (K)', 'is 5', 'expected 4');
  });
  it('wrong ranks', () => {
    expectKernelError(() => matmul(f32([4]), f32([3, 4])), 'matmul', 'x must have shape [M, K]', 'got [4]');
    expectKernelError(() => matmul(f32([1, 4]), f32([1, 3, 4])), 'matmul', 'w must have shape [N, K]', 'got [1, 3, 4]');
  });
  it('wrong dtypes', () => {
    const x16 = fromArray(cpu, new Float32Array(4), [1, 4], 'f16');
    expectKernelError(() => matmul(x16, f32([3, 4])), 'matmul', 'x must be f32', 'got f16');
    const wi = fromArray(cpu, new Int32Array(12), [3, 4], 'i32');
    expectKernelError(() => matmul(f32([1, 4]), wi), 'matmul', 'w must be f32 or f16 or q8_0', 'got i32');
  });
  it('a q8_0 weight needs K to be a multiple of 32', () => {
    // fromArray refuses such a tensor already, so allocate one directly.
    const w = cpu.allocate('q8_0', [2, 40]);
    expectKernelError(() => matmul(f32([1, 40]), w), 'matmul', 'q8_0', 'multiple of 32', 'got 40');
  });
});

describe('matmulSwiglu', () => {
  it('w1 and w3 must agree with x and with each other', () => {
    expectKernelError(
      () => matmulSwiglu(f32([2, 4]), f32([3, 5]), f32([3, 4])),
      'matmulSwiglu',
      'w1.shape[1] (K)',
      'is 5',
      'expected 4',
    );
    expectKernelError(
      () => matmulSwiglu(f32([2, 4]), f32([3, 4]), f32([2, 4])),
      'matmulSwiglu',
      'w3.shape[0] (N)',
      'is 2',
      'expected 3',
    );
    const w3 = fromArray(cpu, new Float32Array(12), [3, 4], 'f16');
    expectKernelError(() => matmulSwiglu(f32([2, 4]), f32([3, 4]), w3), 'matmulSwiglu', 'w1 is f32 but w3 is f16');
  });
});

describe('embedding', () => {
  it('ids must be i32 [T]', () => {
    expectKernelError(() => embedding(f32([10, 4]), f32([3])), 'embedding', 'ids must be i32', 'got f32');
    expectKernelError(() => embedding(f32([10, 4]), zeros(cpu, [1, 3], 'i32')), 'embedding', 'ids must have shape [T]');
  });
  it('the table must be a weight [V, D]', () => {
    expectKernelError(
      () => embedding(zeros(cpu, [10, 4], 'i32'), zeros(cpu, [3], 'i32')),
      'embedding',
      'table must be f32 or f16 or q8_0',
    );
    expectKernelError(() => embedding(f32([10]), zeros(cpu, [3], 'i32')), 'embedding', 'table must have shape [V, D]');
  });
});

describe('rmsNorm', () => {
  it('the weight length must match D', () => {
    expectKernelError(
      () => rmsNorm(f32([2, 8]), f32([7]), 1e-5),
      'rmsNorm',
      'weight.shape[0] (D)',
      'is 7',
      'expected 8',
    );
  });
  it('x must be [R, D]', () => {
    expectKernelError(() => rmsNorm(f32([8]), f32([8]), 1e-5), 'rmsNorm', 'x must have shape [R, D]');
  });
});

describe('rope', () => {
  const table = () => ropeTable(cpu, { frequencies: new Float64Array(4).fill(0.5), positions: 10 });
  it('positions must fit the table', () => {
    expectKernelError(
      () => rope(f32([1, 3, 2, 8]), table(), { startPos: 8, layout: 'half' }),
      'rope',
      'startPos',
      '0..7',
      'got 8',
    );
    expectKernelError(() => rope(f32([1, 3, 2, 8]), table(), { startPos: -1, layout: 'half' }), 'rope', 'startPos');
    expectKernelError(() => rope(f32([1, 3, 2, 8]), table(), { startPos: 0.5, layout: 'half' }), 'rope', 'startPos');
  });
  it('the table must match the head dim', () => {
    expectKernelError(
      () => rope(f32([1, 1, 2, 6]), table(), { startPos: 0, layout: 'half' }),
      'rope',
      'table.shape[1] (Dh/2)',
      'is 4',
      'expected 3',
    );
  });
  it('the layout must be interleaved or half', () => {
    expectKernelError(
      () => rope(f32([1, 1, 2, 8]), table(), { startPos: 0, layout: 'meta' as never }),
      'rope',
      'layout',
      'meta',
    );
  });
  it('x must be [B, T, H, Dh]', () => {
    expectKernelError(
      () => rope(f32([3, 2, 8]), table(), { startPos: 0, layout: 'half' }),
      'rope',
      'x must have shape [B, T, H, Dh]',
    );
  });
  it('ropeTable checks its options', () => {
    // headDim and theta are the model's to check (@llama-ts/model's ropeFrequencies).
    expectKernelError(
      () => ropeTable(cpu, { frequencies: new Float64Array(0), positions: 10 }),
      'ropeTable',
      'frequencies',
    );
    expectKernelError(
      () => ropeTable(cpu, { frequencies: new Float64Array(4), positions: 0 }),
      'ropeTable',
      'positions',
    );
  });
});

describe('kvWrite and attention', () => {
  const cache = () => f32([2, 16, 2, 8]); // [S, L, Hkv, Dh]
  it('kvWrite: the window must fit the cache', () => {
    expectKernelError(
      () => kvWrite(cache(), f32([1, 3, 2, 8]), { startPos: 14 }),
      'kvWrite',
      'positions 14..16',
      'cache of 16 positions',
    );
    expectKernelError(
      () => kvWrite(cache(), f32([2, 1, 2, 8]), { startPos: 0, slot: 1 }),
      'kvWrite',
      'slots 1..2',
      'cache of 2 slots',
    );
    expectKernelError(() => kvWrite(cache(), f32([1, 1, 2, 8]), { startPos: -1 }), 'kvWrite', 'startPos');
    expectKernelError(() => kvWrite(cache(), f32([1, 1, 2, 8]), { startPos: 0, slot: -1 }), 'kvWrite', 'slot');
  });
  it('kvWrite: values must match the cache heads and head dim', () => {
    expectKernelError(
      () => kvWrite(cache(), f32([1, 1, 3, 8]), { startPos: 0 }),
      'kvWrite',
      'values.shape[2] (Hkv)',
      'is 3',
      'expected 2',
    );
    expectKernelError(
      () => kvWrite(cache(), f32([1, 1, 2, 4]), { startPos: 0 }),
      'kvWrite',
      'values.shape[3] (Dh)',
      'is 4',
      'expected 8',
    );
  });
  it('attention: heads must be a multiple of kv heads', () => {
    expectKernelError(
      () => attention(f32([1, 1, 3, 8]), cache(), cache(), { startPos: 0 }),
      'attention',
      'query heads (3)',
      'multiple of kv heads (2)',
    );
  });
  it('attention: the window must fit the cache', () => {
    expectKernelError(
      () => attention(f32([1, 2, 4, 8]), cache(), cache(), { startPos: 15 }),
      'attention',
      'positions 15..16',
      'cache of 16 positions',
    );
    expectKernelError(
      () => attention(f32([3, 1, 4, 8]), cache(), cache(), { startPos: 0 }),
      'attention',
      'slots 0..2',
      'cache of 2 slots',
    );
  });
  it('attention: caches and queries must agree', () => {
    expectKernelError(
      () => attention(f32([1, 1, 4, 8]), cache(), f32([2, 8, 2, 8]), { startPos: 0 }),
      'attention',
      'vCache [2, 8, 2, 8] must match kCache [2, 16, 2, 8]',
    );
    expectKernelError(
      () => attention(f32([1, 1, 4, 4]), cache(), cache(), { startPos: 0 }),
      'attention',
      'kCache.shape[3] (Dh)',
      'is 8',
      'expected 4',
    );
    expectKernelError(
      () => attention(zeros(cpu, [1, 1, 4, 8], 'f16'), cache(), cache(), { startPos: 0 }),
      'attention',
      'q must be f32',
    );
  });
});

describe('per-row cache positions (CacheRows)', () => {
  const cache = () => f32([2, 16, 2, 8]); // [S, L, Hkv, Dh]
  it('rows must be distinct non-negative slots and positions', () => {
    expectKernelError(() => cacheRows(cpu, []), 'cacheRows', 'non-empty');
    expectKernelError(() => cacheRows(cpu, [{ slot: -1, startPos: 0 }]), 'cacheRows', 'rows[0].slot', '≥ 0');
    expectKernelError(() => cacheRows(cpu, [{ slot: 0, startPos: 1.5 }]), 'cacheRows', 'rows[0].startPos');
    expectKernelError(
      () =>
        cacheRows(cpu, [
          { slot: 1, startPos: 0 },
          { slot: 1, startPos: 4 },
        ]),
      'cacheRows',
      'rows[1].slot 1',
      'another row',
    );
  });
  it('each row must fit the cache, and the rows must match the batch', () => {
    const rows = cacheRows(cpu, [
      { slot: 1, startPos: 14 },
      { slot: 0, startPos: 0 },
    ]);
    expectKernelError(
      () => kvWrite(cache(), f32([2, 3, 2, 8]), rows),
      'kvWrite',
      "row 0's positions 14..16",
      '16 positions',
    );
    expectKernelError(
      () => attention(f32([1, 1, 4, 8]), cache(), cache(), rows),
      'attention',
      '2 cache rows',
      'batch of 1',
    );
    const far = cacheRows(cpu, [{ slot: 2, startPos: 0 }]);
    expectKernelError(() => kvWrite(cache(), f32([1, 1, 2, 8]), far), 'kvWrite', "row 0's slot 2", 'cache of 2 slots');
    expectKernelError(
      () =>
        rope(f32([2, 3, 2, 8]), ropeTable(cpu, { frequencies: new Float64Array(4), positions: 16 }), {
          rows,
          layout: 'half',
        }),
      'rope',
      "row 0's positions 14..16",
    );
    rows.dispose();
    expectKernelError(() => kvWrite(cache(), f32([2, 1, 2, 8]), rows), 'kvWrite', 'disposed');
  });
  it('rows must live on the same backend', () => {
    const rows = cacheRows(other, [{ slot: 0, startPos: 0 }]);
    expectKernelError(() => kvWrite(cache(), f32([1, 1, 2, 8]), rows), 'kvWrite', 'same backend');
  });
});

describe('elementwise and softmax family', () => {
  it('add and swiglu need equal shapes', () => {
    expectKernelError(() => add(f32([2, 3]), f32([3, 2])), 'add', 'a [2, 3] and b [3, 2]', 'same shape');
    expectKernelError(() => swiglu(f32([4]), f32([5])), 'swiglu', 'same shape');
    expectKernelError(() => add(f32([2, 3]), f32([6])), 'add', 'b must have shape');
  });
  it('softmax and argmax need [R, N] f32', () => {
    expectKernelError(() => softmax(f32([5])), 'softmax', 'x must have shape [R, N]');
    expectKernelError(() => argmax(zeros(cpu, [2, 5], 'i32')), 'argmax', 'x must be f32', 'got i32');
  });
  it('logSoftmaxGather needs one i32 id per row', () => {
    expectKernelError(
      () => logSoftmaxGather(f32([3, 5]), zeros(cpu, [2], 'i32')),
      'logSoftmaxGather',
      'ids.shape[0] (R)',
      'is 2',
      'expected 3',
    );
    expectKernelError(() => logSoftmaxGather(f32([3, 5]), f32([3])), 'logSoftmaxGather', 'ids must be i32');
  });
});

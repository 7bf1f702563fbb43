// kvWrite and causal grouped-query attention over a KV cache, on every backend.
import { describe, expect, it } from 'vitest';
import { attention, type Backend, fromArray, kvWrite } from '../src/node.js';
import { type BackendName, expectClose, OP_BACKENDS, rngFor, uniform, useBackends } from './harness.js';
import { attentionRef, type CacheGeometry, kvWriteRef } from './reference.js';
import { TOLERANCE } from './tolerances.js';

const backends = useBackends(OP_BACKENDS);

interface AttentionCase {
  what: string;
  batch: number;
  tokens: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  startPos: number;
  slot: number;
  slots: number;
  maxSeqLen: number;
}

const CASES: AttentionCase[] = [
  {
    what: 'prefill from 0, GQA 1',
    batch: 1,
    tokens: 7,
    heads: 4,
    kvHeads: 4,
    headDim: 16,
    startPos: 0,
    slot: 0,
    slots: 1,
    maxSeqLen: 64,
  },
  {
    what: 'prefill at 37, batch 2 in slots 1-2, GQA 2',
    batch: 2,
    tokens: 5,
    heads: 8,
    kvHeads: 4,
    headDim: 32,
    startPos: 37,
    slot: 1,
    slots: 3,
    maxSeqLen: 64,
  },
  {
    what: 'prefill 9 at 520, GQA 4',
    batch: 1,
    tokens: 9,
    heads: 8,
    kvHeads: 2,
    headDim: 32,
    startPos: 520,
    slot: 0,
    slots: 1,
    maxSeqLen: 600,
  },
  {
    what: 'prefill 100 at 412, GQA 4',
    batch: 1,
    tokens: 100,
    heads: 4,
    kvHeads: 1,
    headDim: 32,
    startPos: 412,
    slot: 0,
    slots: 1,
    maxSeqLen: 600,
  },
  {
    what: 'decode at 530, batch 2 in slots 1-2, GQA 8',
    batch: 2,
    tokens: 1,
    heads: 8,
    kvHeads: 1,
    headDim: 32,
    startPos: 530,
    slot: 1,
    slots: 3,
    maxSeqLen: 600,
  },
  {
    what: 'decode at 0 (one position)',
    batch: 1,
    tokens: 1,
    heads: 2,
    kvHeads: 1,
    headDim: 8,
    startPos: 0,
    slot: 0,
    slots: 1,
    maxSeqLen: 1,
  },
  {
    what: 'odd Dh = 3, GQA 3, window ending at the last position',
    batch: 1,
    tokens: 3,
    heads: 3,
    kvHeads: 1,
    headDim: 3,
    startPos: 4,
    slot: 1,
    slots: 2,
    maxSeqLen: 7,
  },
  {
    what: 'odd Dh = 17, batch 3, last two positions',
    batch: 3,
    tokens: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 17,
    startPos: 598,
    slot: 0,
    slots: 3,
    maxSeqLen: 600,
  },
  // Few queries over a long cache: the WebGPU kernel spreads the keys over several workgroups
  // (5 splits here, the last one partial) and merges them; the 3 queries see different numbers of
  // keys, so one split is empty for the earliest.
  {
    what: '3 tokens at 2046 over 5 key splits, GQA 4, odd Dh = 33',
    batch: 1,
    tokens: 3,
    heads: 4,
    kvHeads: 1,
    headDim: 33,
    startPos: 2046,
    slot: 0,
    slots: 1,
    maxSeqLen: 2100,
  },
  // Head dims past one thread per dimension (65), Llama's 128, and 256.
  {
    what: 'Dh = 65, GQA 2',
    batch: 1,
    tokens: 3,
    heads: 4,
    kvHeads: 2,
    headDim: 65,
    startPos: 61,
    slot: 0,
    slots: 1,
    maxSeqLen: 64,
  },
  {
    what: 'Dh = 128, GQA 4',
    batch: 1,
    tokens: 2,
    heads: 8,
    kvHeads: 2,
    headDim: 128,
    startPos: 127,
    slot: 0,
    slots: 1,
    maxSeqLen: 130,
  },
  {
    what: 'Dh = 256, decode',
    batch: 2,
    tokens: 1,
    heads: 2,
    kvHeads: 1,
    headDim: 256,
    startPos: 70,
    slot: 0,
    slots: 2,
    maxSeqLen: 80,
  },
];

/** A KV cache pair on `backend` and in float64, filled with stale random values (the history). */
function makeCaches(backend: Backend, g: CacheGeometry, seed: string) {
  const shape = [g.slots, g.maxSeqLen, g.kvHeads, g.headDim];
  const n = shape.reduce((a, b) => a * b);
  const k = uniform(rngFor(`${seed} k cache`), n);
  const v = uniform(rngFor(`${seed} v cache`), n);
  return {
    kTensor: fromArray(backend, k, shape),
    vTensor: fromArray(backend, v, shape),
    k: Float64Array.from(k),
    v: Float64Array.from(v),
    shape,
  };
}

interface Step {
  batch: number;
  tokens: number;
  heads: number;
  startPos: number;
  slot: number;
}

/** kvWrite of new keys and values, then attention of new queries; checks y against the reference. */
async function step(
  name: BackendName,
  backend: Backend,
  g: CacheGeometry,
  caches: ReturnType<typeof makeCaches>,
  s: Step,
  label: string,
) {
  const rng = rngFor(`${label} step at ${s.startPos}`);
  const kvShape = [s.batch, s.tokens, g.kvHeads, g.headDim];
  const kNew = uniform(
    rng,
    kvShape.reduce((a, b) => a * b),
  );
  const vNew = uniform(rng, kNew.length);
  const qShape = [s.batch, s.tokens, s.heads, g.headDim];
  // Queries in [-2, 2) make the attention weights less uniform, so wrong positions show more.
  const q = uniform(
    rng,
    qShape.reduce((a, b) => a * b),
    -2,
    2,
  );
  const at = { startPos: s.startPos, slot: s.slot };
  kvWrite(caches.kTensor, fromArray(backend, kNew, kvShape), at);
  kvWrite(caches.vTensor, fromArray(backend, vNew, kvShape), at);
  kvWriteRef(caches.k, kNew, g, s.batch, s.tokens, s.startPos, s.slot);
  kvWriteRef(caches.v, vNew, g, s.batch, s.tokens, s.startPos, s.slot);
  const y = attention(fromArray(backend, q, qShape), caches.kTensor, caches.vTensor, at);
  expect(y.shape).toEqual(qShape);
  const expected = attentionRef(q, caches.k, caches.v, g, s.batch, s.tokens, s.heads, s.startPos, s.slot);
  expectClose(await y.toFloat32(), expected, TOLERANCE.attention, {
    op: 'attention',
    backend: name,
    label,
    shape: qShape,
  });
}

describe.each(OP_BACKENDS)('on %s', (name) => {
  it.for(CASES)('kvWrite + attention: $what', async (c, context) => {
    const backend = backends.get(name, context);
    const g: CacheGeometry = { slots: c.slots, maxSeqLen: c.maxSeqLen, kvHeads: c.kvHeads, headDim: c.headDim };
    const caches = makeCaches(backend, g, c.what);
    const label = `${c.what}: B=${c.batch} T=${c.tokens} H=${c.heads} Hkv=${c.kvHeads} Dh=${c.headDim} startPos=${c.startPos} slot=${c.slot} cache [${caches.shape.join(', ')}]`;
    await step(name, backend, g, caches, c, label);
    // kvWrite wrote exactly the window and left every other position (other slots, the history,
    // positions past the window) as it was.
    expectClose(await caches.kTensor.toFloat32(), caches.k, TOLERANCE.kvWrite, {
      op: 'kvWrite (k)',
      backend: name,
      label,
      shape: caches.shape,
    });
    expectClose(await caches.vTensor.toFloat32(), caches.v, TOLERANCE.kvWrite, {
      op: 'kvWrite (v)',
      backend: name,
      label,
      shape: caches.shape,
    });
  });

  it('a sequence: prefill 300, prefill 212 more, then decode 3 tokens past 512 positions', async (context) => {
    const backend = backends.get(name, context);
    const g: CacheGeometry = { slots: 2, maxSeqLen: 600, kvHeads: 2, headDim: 32 };
    const caches = makeCaches(backend, g, 'sequence');
    const steps: Step[] = [
      { batch: 1, tokens: 300, heads: 8, startPos: 0, slot: 1 },
      { batch: 1, tokens: 212, heads: 8, startPos: 300, slot: 1 },
      { batch: 1, tokens: 1, heads: 8, startPos: 512, slot: 1 },
      { batch: 1, tokens: 1, heads: 8, startPos: 513, slot: 1 },
      { batch: 1, tokens: 1, heads: 8, startPos: 514, slot: 1 },
    ];
    for (const s of steps)
      await step(name, backend, g, caches, s, `sequence in slot 1, T=${s.tokens} at ${s.startPos}`);
  });

  it('decode steps recorded back to back, read once at the end', async (context) => {
    // On WebGPU nothing is submitted until a read: every kvWrite must land before the attention
    // recorded after it, and outputs of earlier steps must survive later ones.
    const backend = backends.get(name, context);
    const g: CacheGeometry = { slots: 1, maxSeqLen: 64, kvHeads: 2, headDim: 16 };
    const caches = makeCaches(backend, g, 'back to back');
    const rng = rngFor('back to back steps');
    const pending: { y: ReturnType<typeof attention>; expected: Float64Array; pos: number }[] = [];
    for (let pos = 40; pos < 44; pos++) {
      const kNew = uniform(rng, 32);
      const vNew = uniform(rng, 32);
      const q = uniform(rng, 4 * 16, -2, 2);
      kvWrite(caches.kTensor, fromArray(backend, kNew, [1, 1, 2, 16]), { startPos: pos });
      kvWrite(caches.vTensor, fromArray(backend, vNew, [1, 1, 2, 16]), { startPos: pos });
      kvWriteRef(caches.k, kNew, g, 1, 1, pos, 0);
      kvWriteRef(caches.v, vNew, g, 1, 1, pos, 0);
      const y = attention(fromArray(backend, q, [1, 1, 4, 16]), caches.kTensor, caches.vTensor, { startPos: pos });
      pending.push({ y, expected: attentionRef(q, caches.k, caches.v, g, 1, 1, 4, pos, 0), pos });
    }
    for (const { y, expected, pos } of pending) {
      expectClose(await y.toFloat32(), expected, TOLERANCE.attention, {
        op: 'attention',
        backend: name,
        label: `back to back, step at ${pos}`,
        shape: [1, 1, 4, 16],
      });
    }
  });
});

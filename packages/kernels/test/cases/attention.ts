// Cases of kvWrite and causal grouped-query attention over a KV cache (attention-sequences.test.ts
// runs whole sequences of steps).
import { attention, type CachePosition, cacheRows, kvWrite, type Tensor } from '../../src/node.js';
import { uniform } from '../harness.js';
import type { CaseContext, OpCase } from '../op-case.js';
import { attentionRef, type CacheGeometry, kvWriteRef, type RowPlacement } from '../reference.js';
import { TOLERANCE } from '../tolerances.js';

/**
 * Where new tokens go: `batch` sequences of `tokens` tokens at startPos.., in slots slot.., or
 * with `rows` (per-row cache positions, CacheRows) row b at its own slot and start.
 */
export interface Step {
  batch: number;
  tokens: number;
  heads: number;
  startPos: number;
  slot: number;
  rows?: RowPlacement[];
}

interface AttentionShape extends Step, CacheGeometry {
  what: string;
}

const SHAPES: AttentionShape[] = [
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
  // Per-row cache positions (continuous batching): each row in its own slot at its own position.
  // On WebGPU the keys are split for the longest row; the shorter rows' last splits are empty.
  {
    what: 'per-row decode: 3 rows at 530, 7 and 0 in slots 2, 0, 1, GQA 2',
    batch: 3,
    tokens: 1,
    heads: 4,
    kvHeads: 2,
    headDim: 32,
    startPos: 0,
    slot: 0,
    rows: [
      { slot: 2, startPos: 530 },
      { slot: 0, startPos: 7 },
      { slot: 1, startPos: 0 },
    ],
    slots: 3,
    maxSeqLen: 600,
  },
  {
    what: 'per-row chunks: 2 rows of 5 at 37 and 0 in slots 1, 3 of 4, GQA 4',
    batch: 2,
    tokens: 5,
    heads: 8,
    kvHeads: 2,
    headDim: 16,
    startPos: 0,
    slot: 0,
    rows: [
      { slot: 1, startPos: 37 },
      { slot: 3, startPos: 0 },
    ],
    slots: 4,
    maxSeqLen: 64,
  },
  {
    what: 'per-row decode, Dh = 128: 4 rows, one at the last position, odd slot order',
    batch: 4,
    tokens: 1,
    heads: 8,
    kvHeads: 2,
    headDim: 128,
    startPos: 0,
    slot: 0,
    rows: [
      { slot: 3, startPos: 129 },
      { slot: 1, startPos: 64 },
      { slot: 0, startPos: 1 },
      { slot: 2, startPos: 100 },
    ],
    slots: 4,
    maxSeqLen: 130,
  },
];

const where = (c: AttentionShape) =>
  c.rows
    ? `rows ${c.rows.map((r) => `(slot ${r.slot}, at ${r.startPos})`).join(' ')}`
    : `startPos=${c.startPos} slot=${c.slot}`;

const label = (c: AttentionShape) =>
  `${c.what}: B=${c.batch} T=${c.tokens} H=${c.heads} Hkv=${c.kvHeads} Dh=${c.headDim} ${where(c)} cache [${c.slots}, ${c.maxSeqLen}, ${c.kvHeads}, ${c.headDim}]`;

/** Runs `op` at the step's cache positions: one window, or CacheRows made for the call and freed after it. */
function atStep<T>(caches: Caches, s: Step, op: (at: CachePosition | ReturnType<typeof cacheRows>) => T): T {
  if (!s.rows) return op({ startPos: s.startPos, slot: s.slot });
  const rows = cacheRows(caches.kTensor.backend, s.rows);
  try {
    return op(rows);
  } finally {
    rows.dispose();
  }
}

export interface Caches {
  kTensor: Tensor;
  vTensor: Tensor;
  /** Their float64 twins, which kvWriteRef updates. */
  k: Float64Array;
  v: Float64Array;
  shape: number[];
}

/** A KV cache pair as tensors and in float64, filled with stale random values (the history). */
export function makeCaches(tensor: CaseContext['tensor'], rng: () => number, g: CacheGeometry): Caches {
  const shape = [g.slots, g.maxSeqLen, g.kvHeads, g.headDim];
  const k = uniform(
    rng,
    shape.reduce((a, b) => a * b),
  );
  const v = uniform(rng, k.length);
  return {
    kTensor: tensor(k, shape),
    vTensor: tensor(v, shape),
    k: Float64Array.from(k),
    v: Float64Array.from(v),
    shape,
  };
}

/** kvWrite of random new keys and values into the caches (and their float64 twins). */
function writeStep(tensor: CaseContext['tensor'], rng: () => number, g: CacheGeometry, caches: Caches, s: Step): void {
  const kvShape = [s.batch, s.tokens, g.kvHeads, g.headDim];
  const kNew = uniform(
    rng,
    kvShape.reduce((a, b) => a * b),
  );
  const vNew = uniform(rng, kNew.length);
  atStep(caches, s, (at) => {
    kvWrite(caches.kTensor, tensor(kNew, kvShape), at);
    kvWrite(caches.vTensor, tensor(vNew, kvShape), at);
  });
  kvWriteRef(caches.k, kNew, g, s.batch, s.tokens, s.startPos, s.slot, s.rows);
  kvWriteRef(caches.v, vNew, g, s.batch, s.tokens, s.startPos, s.slot, s.rows);
}

/** kvWrite of new keys and values, then attention of new queries: y and its float64 reference. */
export function attentionStep(
  tensor: CaseContext['tensor'],
  rng: () => number,
  g: CacheGeometry,
  caches: Caches,
  s: Step,
): { y: Tensor; expected: Float64Array; shape: number[] } {
  writeStep(tensor, rng, g, caches, s);
  const shape = [s.batch, s.tokens, s.heads, g.headDim];
  // Queries in [-2, 2) make the attention weights less uniform, so wrong positions show more.
  const q = uniform(
    rng,
    shape.reduce((a, b) => a * b),
    -2,
    2,
  );
  const y = atStep(caches, s, (at) => attention(tensor(q, shape), caches.kTensor, caches.vTensor, at));
  const expected = attentionRef(q, caches.k, caches.v, g, s.batch, s.tokens, s.heads, s.startPos, s.slot, s.rows);
  return { y, expected, shape };
}

/** kvWrite writes exactly the window and leaves every other position (other slots, the history, positions past the window) as it was. */
export const KV_WRITE_CASES = SHAPES.map(
  (c): OpCase<'kvWrite'> => ({
    label: label(c),
    run: ({ rng, tensor }) => {
      const caches = makeCaches(tensor, rng, c);
      writeStep(tensor, rng, c, caches, c);
      return [
        {
          output: 'cache (k)',
          actual: caches.kTensor,
          shape: caches.shape,
          expected: caches.k,
          tolerance: TOLERANCE.kvWrite,
        },
        {
          output: 'cache (v)',
          actual: caches.vTensor,
          shape: caches.shape,
          expected: caches.v,
          tolerance: TOLERANCE.kvWrite,
        },
      ];
    },
  }),
);

export const ATTENTION_CASES = SHAPES.map(
  (c): OpCase<'attention'> => ({
    label: label(c),
    run: ({ rng, tensor }) => {
      const { y, expected, shape } = attentionStep(tensor, rng, c, makeCaches(tensor, rng, c), c);
      return [{ output: 'y', actual: y, shape, expected, tolerance: TOLERANCE.attention }];
    },
  }),
);

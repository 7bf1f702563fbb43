// kvWrite and attention over whole sequences of steps, on every backend (single steps are the op
// suite's cases, test/cases/attention.ts).
import { describe, it } from 'vitest';
import { type Backend, fromArray, type Tensor } from '../src/node.js';
import { attentionStep, makeCaches, type Step } from './cases/attention.js';
import { type BackendName, expectClose, OP_BACKENDS, rngFor, useBackends } from './harness.js';
import type { CacheGeometry } from './reference.js';
import { TOLERANCE } from './tolerances.js';

const backends = useBackends(OP_BACKENDS);

/** Runs the steps in order on one cache pair and checks each step's attention output. */
async function runSequence(
  name: BackendName,
  backend: Backend,
  g: CacheGeometry,
  steps: Step[],
  what: string,
  readEachStep: boolean,
) {
  const rng = rngFor(what);
  const tensor = (values: Float32Array | Int32Array | readonly number[], shape: readonly number[]) =>
    fromArray(backend, values, shape);
  const caches = makeCaches(tensor, rng, g);
  const pending: { y: Tensor; expected: Float64Array; shape: number[]; s: Step }[] = [];
  const check = async ({ y, expected, shape, s }: (typeof pending)[number]) =>
    expectClose(await y.toFloat32(), expected, TOLERANCE.attention, {
      op: 'attention',
      backend: name,
      label: `${what}, T=${s.tokens} at ${s.startPos}`,
      shape,
    });
  for (const s of steps) {
    const step = { ...attentionStep(tensor, rng, g, caches, s), s };
    if (readEachStep) await check(step);
    else pending.push(step);
  }
  for (const step of pending) await check(step);
}

describe.each(OP_BACKENDS)('on %s', (name) => {
  it('a sequence: prefill 300, prefill 212 more, then decode 3 tokens past 512 positions', async (context) => {
    const g: CacheGeometry = { slots: 2, maxSeqLen: 600, kvHeads: 2, headDim: 32 };
    const steps: Step[] = [
      { batch: 1, tokens: 300, heads: 8, startPos: 0, slot: 1 },
      { batch: 1, tokens: 212, heads: 8, startPos: 300, slot: 1 },
      { batch: 1, tokens: 1, heads: 8, startPos: 512, slot: 1 },
      { batch: 1, tokens: 1, heads: 8, startPos: 513, slot: 1 },
      { batch: 1, tokens: 1, heads: 8, startPos: 514, slot: 1 },
    ];
    await runSequence(name, backends.get(name, context), g, steps, 'sequence in slot 1', true);
  });

  it('decode steps recorded back to back, read once at the end', async (context) => {
    // On WebGPU nothing is submitted until a read: every kvWrite must land before the attention
    // recorded after it, and outputs of earlier steps must survive later ones.
    const g: CacheGeometry = { slots: 1, maxSeqLen: 64, kvHeads: 2, headDim: 16 };
    const steps = [40, 41, 42, 43].map((startPos): Step => ({ batch: 1, tokens: 1, heads: 4, startPos, slot: 0 }));
    await runSequence(name, backends.get(name, context), g, steps, 'back to back', false);
  });
});

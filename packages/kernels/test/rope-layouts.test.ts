// A sanity check of rope's two layouts (and of the test's reference): half-layout rope on a head
// permuted (2j, 2j+1) → (j, j + Dh/2) equals the interleaved rope, permuted the same way.
import { describe, it } from 'vitest';
import { fromArray, rope, ropeTable } from '../src/node.js';
import { expectClose, OP_BACKENDS, rngFor, uniform, useBackends } from './harness.js';
import { standardFrequencies } from './reference.js';

const backends = useBackends(OP_BACKENDS);

describe.each(OP_BACKENDS)('on %s', (name) => {
  it('the two rope layouts differ by a permutation of each head', async (context) => {
    const backend = backends.get(name, context);
    const shape: [number, number, number, number] = [1, 2, 1, 8];
    const x = uniform(rngFor('permutation'), 16);
    const perm = (v: Float32Array) => {
      const out = new Float32Array(v.length);
      for (let h = 0; h < v.length / 8; h++) {
        for (let j = 0; j < 4; j++) {
          out[h * 8 + j] = v[h * 8 + 2 * j] as number;
          out[h * 8 + j + 4] = v[h * 8 + 2 * j + 1] as number;
        }
      }
      return out;
    };
    const table = ropeTable(backend, { frequencies: standardFrequencies(8, 10000), positions: 10 });
    const a = await rope(fromArray(backend, x, shape), table, { startPos: 7, layout: 'interleaved' }).toFloat32();
    const b = await rope(fromArray(backend, perm(x), shape), table, { startPos: 7, layout: 'half' }).toFloat32();
    expectClose(b, perm(a), { abs: 1e-6, rel: 0 }, { op: 'rope', backend: name, label: 'layouts', shape });
  });
});

// The shared op suite: every case of every op (test/op-cases.ts) on every backend of OP_BACKENDS.
import { describe, it } from 'vitest';
import type { OpName } from '../src/op-contract.js';
import { OP_BACKENDS, useBackends } from './harness.js';
import { type AnyOpCase, checkCase } from './op-case.js';
import { CASES } from './op-cases.js';

const backends = useBackends(OP_BACKENDS);

describe.each(OP_BACKENDS)('on %s', (backendName) => {
  for (const op of Object.keys(CASES) as OpName[]) {
    const cases: readonly AnyOpCase[] = CASES[op];
    describe(op, () => {
      for (const c of cases) {
        it(c.label, async (context) => {
          await checkCase(op, c, backends.get(backendName, context), backendName);
        });
      }
    });
  }
});

/**
 * The shape of the shared op suite (llama.cpp's test-backend-ops): an op's case builds seeded random
 * inputs on a backend, calls the op through its public front end, and says what each output must
 * be (a float64 reference and a tolerance from tolerances.ts). `checkCase` runs one case on one
 * backend; ops.test.ts runs every case of test/op-cases.ts on every backend of OP_BACKENDS.
 */
import { expect } from 'vitest';
import { type Backend, type DType, fromArray, type Tensor } from '../src/node.js';
import type { OpName, OpOutputs } from '../src/op-contract.js';
import { expectClose, expectExact, rngFor, type Tolerance } from './harness.js';

type OutputName<Name extends OpName> = keyof OpOutputs[Name] & string;

/** What one output of a case must hold. */
export interface Expectation<Name extends OpName = OpName> {
  /** One of the op's outputs, with a note when the case checks it more than once: 'dW (accumulate x2)'. */
  output: OutputName<Name> | `${OutputName<Name>} (${string})`;
  actual: Tensor;
  /** Its expected shape, checked, and used to name a failing element's coordinates. */
  shape: readonly number[];
  /** Its expected dtype; 'f32' unless said. */
  dtype?: DType;
  expected: ArrayLike<number>;
  /** 'exact': every element equal (integer outputs). */
  tolerance: Tolerance | 'exact';
  /** Elements that must equal `expected` exactly, beside the tolerance (a padding row's 0). */
  exactAt?: readonly number[];
}

/** What a case gets to build its inputs with. */
export interface CaseContext {
  backend: Backend;
  /** Seeded from the op and the case's label: every case has its own reproducible data. */
  rng: () => number;
  /** fromArray on the case's backend; the tensor is disposed after the case. */
  tensor(values: Float32Array | Int32Array | readonly number[], shape: readonly number[], dtype?: DType): Tensor;
}

/** One case of one op: a label naming its shape, and how to run and check it. */
export interface OpCase<Name extends OpName> {
  /** Its shape and what is special about it, e.g. 'M=3 N=100 K=1003 f16'. Unique within the op. */
  label: string;
  /** Builds inputs, calls the op, returns what its outputs must hold (it may also assert on the way). */
  run(context: CaseContext): Expectation<Name>[] | Promise<Expectation<Name>[]>;
}

/** A case with its op's name forgotten, as the runner sees it. */
export interface AnyOpCase {
  label: string;
  run(context: CaseContext): readonly Expectation<never>[] | Promise<readonly Expectation<never>[]>;
}

/** Runs one case of `op` on `backend` and checks every expectation it returns. */
export async function checkCase(op: OpName, c: AnyOpCase, backend: Backend, backendName: string): Promise<void> {
  const created = new Set<Tensor>();
  const tensor: CaseContext['tensor'] = (values, shape, dtype) => {
    const t = fromArray(backend, values, shape, dtype);
    created.add(t);
    return t;
  };
  const expectations = await c.run({ backend, rng: rngFor(`${op} ${c.label}`), tensor });
  for (const e of expectations) {
    const what = { op: `${op} ${e.output}`, backend: backendName, label: c.label, shape: e.shape };
    expect(e.actual.shape, `${what.op} on ${backendName} (${c.label}): shape`).toEqual(e.shape);
    expect(e.actual.dtype, `${what.op} on ${backendName} (${c.label}): dtype`).toBe(e.dtype ?? 'f32');
    const values = await e.actual.toFloat32();
    if (e.tolerance === 'exact') expectExact(values, e.expected, what);
    else expectClose(values, e.expected, e.tolerance, what);
    for (const i of e.exactAt ?? []) {
      expect(values[i], `${what.op} on ${backendName} (${c.label}): element ${i}`).toBe(e.expected[i]);
    }
    created.add(e.actual);
  }
  for (const t of created) t.dispose();
}

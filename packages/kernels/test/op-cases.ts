/**
 * The shared op suite: every op's cases, by op name. Typed over every name of the op contract
 * (src/op-contract.ts), so an op without cases, or cases of an op that does not exist, is a compile
 * error. ops.test.ts runs each case on every backend of OP_BACKENDS (test/harness.ts).
 *
 * A case builds seeded inputs, calls the op through its public front end and returns each output
 * with its float64 reference and tolerance (test/op-case.ts). The cases live in test/cases/ by op
 * family; tests of something special (split bindings, whole attention sequences, the float64
 * references against finite differences, error messages) are test files of their own.
 */
import type { OpName } from '../src/op-contract.js';
import { ATTENTION_CASES, KV_WRITE_CASES } from './cases/attention.js';
import {
  ATTENTION_BACKWARD_CASES,
  CROSS_ENTROPY_CASES,
  EMBEDDING_BACKWARD_CASES,
  MATMUL_GRAD_INPUT_CASES,
  MATMUL_GRAD_WEIGHT_CASES,
  RMS_NORM_BACKWARD_CASES,
  SWIGLU_BACKWARD_CASES,
} from './cases/backward.js';
import { EMBEDDING_CASES, MATMUL_CASES, MATMUL_SWIGLU_CASES } from './cases/linear.js';
import { ADAMW_STEP_CASES, SUM_SQUARES_CASES } from './cases/optimizer.js';
import { ADD_CASES, RMS_NORM_CASES, ROPE_CASES, SWIGLU_CASES } from './cases/pointwise.js';
import { ARGMAX_CASES, LOG_SOFTMAX_GATHER_CASES, SOFTMAX_CASES } from './cases/rows.js';
import type { OpCase } from './op-case.js';

export const CASES = {
  matmul: MATMUL_CASES,
  matmulSwiglu: MATMUL_SWIGLU_CASES,
  embedding: EMBEDDING_CASES,
  rmsNorm: RMS_NORM_CASES,
  rope: ROPE_CASES,
  kvWrite: KV_WRITE_CASES,
  attention: ATTENTION_CASES,
  swiglu: SWIGLU_CASES,
  add: ADD_CASES,
  softmax: SOFTMAX_CASES,
  logSoftmaxGather: LOG_SOFTMAX_GATHER_CASES,
  argmax: ARGMAX_CASES,
  matmulGradInput: MATMUL_GRAD_INPUT_CASES,
  matmulGradWeight: MATMUL_GRAD_WEIGHT_CASES,
  crossEntropy: CROSS_ENTROPY_CASES,
  rmsNormBackward: RMS_NORM_BACKWARD_CASES,
  swigluBackward: SWIGLU_BACKWARD_CASES,
  embeddingBackward: EMBEDDING_BACKWARD_CASES,
  adamwStep: ADAMW_STEP_CASES,
  sumSquares: SUM_SQUARES_CASES,
  attentionBackward: ATTENTION_BACKWARD_CASES,
} as const satisfies { readonly [Name in OpName]: readonly OpCase<Name>[] };

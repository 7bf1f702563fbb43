import type { OpInputs, OpName, OpOutputs, OpParams } from '../op-contract.js';

/** The CPU twin of an op: runs it at once, reading its inputs' storage and writing its outputs'. */
export type CpuKernel<Name extends OpName> = (
  inputs: OpInputs[Name],
  outputs: OpOutputs[Name],
  params: OpParams[Name],
) => void;

/** Thrown on a wrong shape, dtype or parameter: the message names the op, argument and expectation. */
export class KernelError extends Error {
  override name = 'KernelError';
}

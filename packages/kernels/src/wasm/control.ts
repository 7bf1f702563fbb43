/**
 * The control block through which the calling thread hands work to the pool's workers: a few
 * Int32 words in the shared memory (read and written with Atomics), the call's arguments as f64,
 * and room for an error message. One call = write FN, NARGS, ACTIVE and the arguments, zero DONE,
 * bump GEN and notify; each worker runs the export if its tid < ACTIVE, then bumps DONE.
 */
export const CONTROL = {
  /** Bumped once per call; workers wait on it. */
  GEN: 0,
  /** Workers that finished the current call. */
  DONE: 1,
  /** Index of the export to call (in WebAssembly.Module.exports order, functions only). */
  FN: 2,
  NARGS: 3,
  /** Threads taking part (the kernel's nthreads); workers with tid >= ACTIVE only acknowledge. */
  ACTIVE: 4,
  /** Set before the last GEN bump of destroy(): workers leave their loop. */
  STOP: 5,
  /** 0, or 1 + the tid of the first worker whose kernel threw (its message at MESSAGE_OFFSET). */
  ERROR: 6,
  /** 0, or 1 + the tid of a worker that left its loop on an unexpected error (it is gone). */
  DEAD: 7,
  /** Byte length of the UTF-8 message at MESSAGE_OFFSET. */
  MESSAGE_BYTES: 8,
  /** Int32 words before the arguments. */
  WORDS: 16,
  /** Byte offset of the Float64 arguments. */
  ARGS_OFFSET: 64,
  MAX_ARGS: 24,
  /** Byte offset and capacity of the error message. */
  MESSAGE_OFFSET: 256,
  MESSAGE_CAPACITY: 768,
  /** Total bytes of the block. */
  BYTES: 1024,
} as const;

export type ControlLayout = typeof CONTROL;

/**
 * The control block through which the calling thread hands work to the pool's workers: a few
 * Int32 words in the shared memory (read and written with Atomics), the call's arguments as f64,
 * and room for an error message.
 *
 * One call = write FN, NARGS, ACTIVE, PARTS and the arguments, zero NEXT, DONE and JOIN, bump GEN
 * and notify. The kernel's work is cut into PARTS parts (its `tid, nthreads` are a part and PARTS),
 * and every taking-part thread, the caller included, claims parts from NEXT until none are left:
 * the parts are not tied to threads. A worker takes part only if it joins in time: it adds 1 to
 * JOIN, which the caller closes (sets JOIN_CLOSED) once it has run out of parts; a worker that
 * finds JOIN closed leaves the call alone. The caller then waits until DONE (bumped by each worker
 * that joined, when it is out of parts) equals the joins counted when it closed. So a worker that
 * the OS has not scheduled (the machine busy with other work) costs no waiting: the caller does
 * its parts; the caller waits only for parts a worker has already begun.
 */
export const CONTROL = {
  /** Bumped once per call; workers wait on it. */
  GEN: 0,
  /** Workers that joined the current call and finished their parts. */
  DONE: 1,
  /** Index of the export to call (in WebAssembly.Module.exports order, functions only). */
  FN: 2,
  NARGS: 3,
  /** Threads that may take part; a worker with tid >= ACTIVE claims no parts. */
  ACTIVE: 4,
  /** Set before the last GEN bump of destroy(): workers leave their loop. */
  STOP: 5,
  /** 0, or 1 + the part (the kernel's tid) of the first worker's kernel that threw (its message at MESSAGE_OFFSET). */
  ERROR: 6,
  /** 0, or 1 + the tid of a worker that left its loop on an unexpected error (it is gone). */
  DEAD: 7,
  /** Byte length of the UTF-8 message at MESSAGE_OFFSET. */
  MESSAGE_BYTES: 8,
  /** Workers that joined the current call (low bits), JOIN_CLOSED once the caller stopped taking joins. */
  JOIN: 9,
  /** The next part to claim (Atomics.add; values >= PARTS mean none left). */
  NEXT: 10,
  /** How many parts the current call's work is cut into (the kernel's nthreads). */
  PARTS: 11,
  /** The bit of JOIN that closes a call to late workers. */
  JOIN_CLOSED: 1 << 30,
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

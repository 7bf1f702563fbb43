import { KernelError } from '../errors.js';
import { formatBytes } from '../format-bytes.js';

/** WebAssembly pages are 64 KiB; wasm32 addresses at most 65536 of them (4 GiB). */
export const PAGE_BYTES = 65536;
export const MAX_PAGES = 65536;
/** Every region starts on a cache line, so SIMD loads of a tensor never straddle one needlessly. */
const ALIGN = 64;

interface FreeBlock {
  start: number;
  size: number;
}

/**
 * The one WebAssembly.Memory every thread runs on, and a first-fit allocator of 64-byte-aligned
 * regions above the kernels' static area. Freed regions are coalesced with their neighbours and
 * reused; a region at the top is returned to the top. The memory grows (never shrinks) when no
 * free region fits. Views of the memory are recreated after growth (the buffer object changes).
 */
export class WasmMemory {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  /** The largest the memory can grow to, in bytes. */
  readonly maxBytes: number;
  #top: number;
  #free: FreeBlock[] = [];
  #bytes: Uint8Array | undefined;

  constructor(options: { shared: boolean; base: number; initialBytes?: number }) {
    this.shared = options.shared;
    const initial = Math.max(1, Math.ceil((options.initialBytes ?? 16 * PAGE_BYTES) / PAGE_BYTES));
    const { memory, maximum } = createMemory(initial, options.shared);
    this.memory = memory;
    this.maxBytes = maximum * PAGE_BYTES;
    this.#top = roundUp(Math.max(options.base, ALIGN), ALIGN);
  }

  /** Bytes in use or free below the top (for tests and logs). */
  get used(): number {
    return this.#top;
  }

  /** A region of at least `bytes` bytes (64-byte aligned). Throws a KernelError past 4 GiB. */
  allocate(bytes: number): number {
    const size = Math.max(ALIGN, roundUp(bytes, ALIGN));
    const free = this.#free;
    for (let i = 0; i < free.length; i++) {
      const block = free[i] as FreeBlock;
      if (block.size < size) continue;
      const start = block.start;
      if (block.size === size) free.splice(i, 1);
      else {
        block.start += size;
        block.size -= size;
      }
      return start;
    }
    const start = this.#top;
    const end = start + size;
    if (end > this.maxBytes) {
      throw new KernelError(
        `wasm backend: out of memory: ${formatBytes(size)} more would need ${formatBytes(end)} of WebAssembly memory, ` +
          `past its limit of ${formatBytes(this.maxBytes)} (wasm32); use smaller weights (q8_0) or the webgpu backend`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow by at least an eighth of the current size, so that many small allocations grow rarely.
      const want = Math.max(end, Math.min(this.maxBytes, have + Math.ceil(have / 8)));
      this.memory.grow(Math.ceil((want - have) / PAGE_BYTES));
    }
    this.#top = end;
    return start;
  }

  /** Returns a region from `allocate` (with the size asked for then). */
  free(start: number, bytes: number): void {
    const size = Math.max(ALIGN, roundUp(bytes, ALIGN));
    const free = this.#free;
    // Binary search for the first block after `start`.
    let lo = 0;
    let hi = free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((free[mid] as FreeBlock).start < start) lo = mid + 1;
      else hi = mid;
    }
    let block: FreeBlock = { start, size };
    const before = free[lo - 1];
    if (before && before.start + before.size === start) {
      before.size += size;
      block = before;
      lo--;
    } else {
      free.splice(lo, 0, block);
    }
    const after = free[lo + 1];
    if (after && block.start + block.size === after.start) {
      block.size += after.size;
      free.splice(lo + 1, 1);
    }
    if (block.start + block.size === this.#top) {
      this.#top = block.start;
      free.splice(lo, 1);
    }
  }

  /** The whole memory as bytes (recreated after growth). */
  bytes(): Uint8Array {
    const buffer = this.memory.buffer;
    if (!this.#bytes || this.#bytes.buffer !== buffer) this.#bytes = new Uint8Array(buffer);
    return this.#bytes;
  }
}

function createMemory(initial: number, shared: boolean): { memory: WebAssembly.Memory; maximum: number } {
  // Some browsers (32-bit, mobile) refuse to reserve 4 GiB for a shared memory: try smaller limits.
  let error: unknown;
  for (const maximum of [MAX_PAGES, MAX_PAGES / 4, MAX_PAGES / 16]) {
    try {
      return { memory: new WebAssembly.Memory({ initial, maximum, shared }), maximum };
    } catch (e) {
      error = e;
    }
  }
  throw new KernelError(
    `wasm backend: could not create a WebAssembly memory: ${error instanceof Error ? error.message : String(error)}`,
  );
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

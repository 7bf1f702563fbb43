/** Length of the common prefix of two token lists. */
export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** One KV-cache slot: the tokens whose keys and values it holds, position by position. */
export interface CacheSlot {
  readonly index: number;
  cached: number[];
  busy: boolean;
  /** When it was last given to a request (the least recently used wins a tie). */
  lastUsed: number;
}

/**
 * The free slot whose cached tokens share the longest prefix with `prompt` (so a request that
 * extends a previous conversation reuses its keys and values); among equals, the least recently used,
 * so that other slots' caches survive longer. Undefined when every slot is busy.
 */
export function pickSlot(
  slots: readonly CacheSlot[],
  prompt: readonly number[],
): { slot: CacheSlot; prefix: number } | undefined {
  let best: { slot: CacheSlot; prefix: number } | undefined;
  for (const slot of slots) {
    if (slot.busy) continue;
    const prefix = commonPrefix(slot.cached, prompt);
    if (!best || prefix > best.prefix || (prefix === best.prefix && slot.lastUsed < best.slot.lastUsed)) {
      best = { slot, prefix };
    }
  }
  return best;
}

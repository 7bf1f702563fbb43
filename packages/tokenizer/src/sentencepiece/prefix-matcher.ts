/**
 * Longest-prefix matching of user-defined pieces, as sentencepiece's PrefixMatcher: at a position,
 * the longest user-defined piece that starts there, else one code point. A few user-defined pieces at
 * most, so a list per first UTF-16 unit (longest first) is enough.
 */
export class PrefixMatcher {
  readonly #byFirstUnit = new Map<number, string[]>();

  constructor(symbols: Iterable<string>) {
    for (const symbol of symbols) {
      const unit = symbol.charCodeAt(0);
      const list = this.#byFirstUnit.get(unit) ?? [];
      list.push(symbol);
      list.sort((a, b) => b.length - a.length);
      this.#byFirstUnit.set(unit, list);
    }
  }

  get isEmpty(): boolean {
    return this.#byFirstUnit.size === 0;
  }

  /** Length (UTF-16 units) of the user-defined piece at `i`, or 0 when none starts there. */
  match(text: string, i: number): number {
    const candidates = this.#byFirstUnit.get(text.charCodeAt(i));
    if (candidates === undefined) return 0;
    for (const symbol of candidates) if (text.startsWith(symbol, i)) return symbol.length;
    return 0;
  }
}

/** UTF-16 length of the code point at `i` (2 for a surrogate pair). */
export function codePointLength(text: string, i: number): 1 | 2 {
  const unit = text.charCodeAt(i);
  if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 2;
  }
  return 1;
}

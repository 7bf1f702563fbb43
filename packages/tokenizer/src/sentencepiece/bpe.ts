import { codePointLength, type PrefixMatcher } from './prefix-matcher.js';

/**
 * The vocabulary as the merge loop sees it. A symbol is always a mergeable piece (normal,
 * user-defined or unused) or a single code point, so it is named by a number: the piece's id, or
 * `nWords + codePoint` for a code point that is no piece. `merges` maps the pair (left, right) to the
 * piece their concatenation spells, for every way of cutting every piece in two symbols: looking a
 * pair up is one numeric Map lookup, not a substring.
 */
export class BpeVocabulary {
  readonly #mergeable: ReadonlyMap<string, number>;
  readonly #nWords: number;
  readonly #symbolSpace: number;
  readonly #codePoints = new Map<number, number>();
  readonly merges = new Map<number, number>();

  constructor(
    mergeable: ReadonlyMap<string, number>,
    nWords: number,
    readonly scores: Float64Array,
    readonly unused: ReadonlySet<number>,
    readonly userDefined: PrefixMatcher,
  ) {
    this.#mergeable = mergeable;
    this.#nWords = nWords;
    this.#symbolSpace = nWords + 0x110000;
    for (const [piece, id] of mergeable) {
      for (let cut = codePointLength(piece, 0); cut < piece.length; cut += codePointLength(piece, cut)) {
        const left = this.symbolOf(piece.slice(0, cut));
        const right = this.symbolOf(piece.slice(cut));
        if (left >= 0 && right >= 0) this.merges.set(left * this.#symbolSpace + right, id);
      }
    }
  }

  /** The symbol number of a piece or single code point; -1 for other strings. */
  symbolOf(text: string): number {
    const id = this.#mergeable.get(text);
    if (id !== undefined) return id;
    const cp = text.codePointAt(0) as number;
    return text.length === codePointLength(text, 0) ? this.#nWords + cp : -1;
  }

  /** The symbol number of the code point at `i` (cached: text has few distinct code points). */
  codePointSymbol(text: string, i: number, width: number): number {
    const cp = text.codePointAt(i) as number;
    let symbol = this.#codePoints.get(cp);
    if (symbol === undefined) {
      symbol = this.symbolOf(text.slice(i, i + width));
      this.#codePoints.set(cp, symbol);
    }
    return symbol;
  }

  /** The piece id that `left` followed by `right` spells, if any. */
  merged(left: number, right: number): number | undefined {
    return this.merges.get(left * this.#symbolSpace + right);
  }
}

export interface BpeResult {
  /** The final symbols as [start, end) UTF-16 offsets into the text, flattened. */
  segments: Int32Array;
  /**
   * For each unused piece a merge could produce, the two symbols of the last such pair pushed:
   * sentencepiece's `rev_merge`, used to split unused pieces back.
   */
  unusedSplits: Map<string, [string, string]>;
}

/**
 * sentencepiece's BPE segmentation (`bpe::Model::SampleEncode` without dropout): the normalised text
 * starts as one symbol per code point (a user-defined piece is one frozen symbol), then the adjacent
 * pair whose concatenation is the highest-scoring piece merges, the leftmost of equal scores first,
 * until no pair is a piece. A binary heap of candidate pairs and a linked list of symbols make it
 * O(n log n): a merge only adds the two pairs around the new symbol, and a popped pair whose symbols
 * changed since it was pushed is skipped (their lengths no longer add up to its length).
 */
export function bpeSegments(text: string, vocab: BpeVocabulary): BpeResult {
  const n = text.length;
  const unusedSplits = new Map<string, [string, string]>();
  if (n === 0) return { segments: new Int32Array(0), unusedSplits };
  // Symbols, indexed by their position among the initial ones.
  const start = new Int32Array(n);
  const length = new Int32Array(n);
  const symbol = new Int32Array(n);
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  const frozen = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; count++) {
    const user = vocab.userDefined.isEmpty ? 0 : vocab.userDefined.match(text, i);
    const width = user || codePointLength(text, i);
    start[count] = i;
    length[count] = width;
    frozen[count] = user ? 1 : 0;
    symbol[count] = user ? -1 : vocab.codePointSymbol(text, i, width);
    prev[count] = count - 1;
    i += width;
    next[count] = i < n ? count + 1 : -1;
  }

  const heap = new PairHeap(count);
  const tryPair = (left: number, right: number): void => {
    if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
    const id = vocab.merged(symbol[left] as number, symbol[right] as number);
    if (id === undefined) return;
    const leftLength = length[left] as number;
    const rightLength = length[right] as number;
    heap.push(left, right, vocab.scores[id] as number, leftLength + rightLength, id);
    if (vocab.unused.has(id)) {
      const from = start[left] as number;
      const piece = text.slice(from, from + leftLength + rightLength);
      unusedSplits.set(piece, [piece.slice(0, leftLength), piece.slice(leftLength)]);
    }
  };
  for (let s = 1; s < count; s++) tryPair(s - 1, s);

  while (heap.size > 0) {
    const pair = heap.pop();
    const left = heap.left[pair] as number;
    const right = heap.right[pair] as number;
    // Skip a pair whose symbols changed (or vanished) since it was pushed.
    const leftLength = length[left] as number;
    const rightLength = length[right] as number;
    if (leftLength === 0 || rightLength === 0 || leftLength + rightLength !== heap.length[pair]) continue;
    length[left] = leftLength + rightLength;
    symbol[left] = heap.piece[pair] as number;
    const after = next[right] as number;
    next[left] = after;
    if (after >= 0) prev[after] = left;
    length[right] = 0;
    tryPair(prev[left] as number, left);
    tryPair(left, after);
  }

  let kept = 0;
  for (let s = 0; s !== -1; s = next[s] as number) kept++;
  const segments = new Int32Array(kept * 2);
  let k = 0;
  for (let s = 0; s !== -1; s = next[s] as number) {
    segments[k++] = start[s] as number;
    segments[k++] = (start[s] as number) + (length[s] as number);
  }
  return { segments, unusedSplits };
}

/**
 * A max-heap of candidate merges by (score, then smaller left index): sentencepiece's agenda order.
 * Pairs live in growable typed arrays; the heap holds their indices.
 */
class PairHeap {
  left: Int32Array;
  right: Int32Array;
  length: Int32Array;
  /** The piece the pair merges into. */
  piece: Int32Array;
  score: Float64Array;
  #heap: Int32Array;
  #pairs = 0;
  size = 0;

  constructor(capacity: number) {
    const initial = Math.max(16, capacity);
    this.left = new Int32Array(initial);
    this.right = new Int32Array(initial);
    this.length = new Int32Array(initial);
    this.piece = new Int32Array(initial);
    this.score = new Float64Array(initial);
    this.#heap = new Int32Array(initial);
  }

  push(left: number, right: number, score: number, length: number, piece: number): void {
    if (this.#pairs === this.left.length) this.#grow();
    const pair = this.#pairs++;
    this.left[pair] = left;
    this.right[pair] = right;
    this.score[pair] = score;
    this.length[pair] = length;
    this.piece[pair] = piece;
    // Sift up.
    const heap = this.#heap;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent] as number;
      if (!this.#before(pair, above)) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = pair;
  }

  pop(): number {
    const heap = this.#heap;
    const top = heap[0] as number;
    const last = heap[--this.size] as number;
    // Sift the last pair down from the root.
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      const other = child + 1;
      if (other < this.size && this.#before(heap[other] as number, heap[child] as number)) child = other;
      if (!this.#before(heap[child] as number, last)) break;
      heap[i] = heap[child] as number;
      i = child;
    }
    if (this.size > 0) heap[i] = last;
    return top;
  }

  /** Whether pair a comes out before pair b. */
  #before(a: number, b: number): boolean {
    const sa = this.score[a] as number;
    const sb = this.score[b] as number;
    return sa > sb || (sa === sb && (this.left[a] as number) < (this.left[b] as number));
  }

  #grow(): void {
    const size = this.left.length * 2;
    const grow = <T extends Int32Array | Float64Array>(array: T, make: (n: number) => T): T => {
      const bigger = make(size);
      bigger.set(array);
      return bigger;
    };
    this.left = grow(this.left, (k) => new Int32Array(k));
    this.right = grow(this.right, (k) => new Int32Array(k));
    this.length = grow(this.length, (k) => new Int32Array(k));
    this.piece = grow(this.piece, (k) => new Int32Array(k));
    this.score = grow(this.score, (k) => new Float64Array(k));
    this.#heap = grow(this.#heap, (k) => new Int32Array(k));
  }
}

/**
 * Text helpers that reproduce Python's string semantics, which the reference relies on and
 * JavaScript does not share: Python indexes strings by code point (JS by UTF-16 unit), and
 * `str.isspace` / `str.strip` use a whitespace set that differs from both JS `\s` and `trim()`.
 */

/** Python's `str.isspace` for one code point (U+001C..U+001F count; U+FEFF does not). */
export function isPythonSpace(cp: number): boolean {
  if (cp <= 0x20) return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f);
  if (cp < 0x85) return false;
  return (
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/** Python's `s.strip()` with no argument. */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  // Every character of the whitespace set is in the BMP, so UTF-16 units can be tested directly.
  while (start < end && isPythonSpace(text.charCodeAt(start))) start++;
  while (end > start && isPythonSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** UTF-16 index reached after stepping over `count` code points from `from` (or text.length). */
export function advanceCodePoints(text: string, from: number, count: number): number {
  let i = from;
  for (let n = 0; n < count && i < text.length; n++) i += codePointWidth(text, i);
  return i;
}

/** 2 for a surrogate pair at `i`, else 1 (a lone surrogate is one code point, as in Python). */
function codePointWidth(text: string, i: number): 1 | 2 {
  const unit = text.charCodeAt(i);
  if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 2;
  }
  return 1;
}

/**
 * The reference's `_split_whitespaces_or_nonwhitespaces` over `text[start:end]` (UTF-16 bounds):
 * cuts so that no piece holds more than `maxRun` consecutive whitespace code points, or more than
 * `maxRun` consecutive non-whitespace ones. Like the reference it yields at least one piece.
 */
export function* splitWhitespaceRuns(text: string, start: number, end: number, maxRun: number): Generator<string> {
  let pieceStart = start;
  let runLength = 0;
  let runIsSpace = start < end ? isPythonSpace(text.codePointAt(start) ?? 0) : false;
  for (let i = start; i < end; ) {
    const cp = text.codePointAt(i) ?? 0;
    const isSpace = isPythonSpace(cp);
    if (isSpace !== runIsSpace) {
      runLength = 1;
      runIsSpace = isSpace;
    } else if (++runLength > maxRun) {
      yield text.slice(pieceStart, i);
      pieceStart = i;
      runLength = 1;
    }
    i += codePointWidth(text, i);
  }
  yield text.slice(pieceStart, end);
}

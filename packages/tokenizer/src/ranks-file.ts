import { TokenizerError } from './errors.js';

/**
 * Checks a tiktoken BPE rank file (`<base64 bytes> <rank>` per line) before it reaches tiktoken's
 * WASM core, which would abort with an opaque `unreachable` on malformed input. Llama 3 numbers
 * its special tokens right after the ranks, so ranks must be exactly 0..N-1 without repeats.
 *
 * Returns N, the number of base tokens.
 */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const RANK = /^\d+$/;

export function validateRanksFile(contents: string, source: string): number {
  if (typeof contents !== 'string') {
    throw new TokenizerError(`${source}: expected the text of a tiktoken BPE rank file, got ${typeof contents}`);
  }
  const lines = contents.split('\n');
  const seenTokens = new Set<string>();
  /** Each token's bytes (as a binary string) and the line that gave them. */
  const seenBytes = new Map<string, number>();
  const seenRanks = new Set<number>();
  let maxRank = -1;
  let maxRankLine = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).trim();
    if (line === '') continue;
    const where = `${source}, line ${index + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 2) {
      throw new TokenizerError(
        `${where}: expected "<base64 token bytes> <rank>", found ${fields.length} field(s): ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const [token, rankText] = fields as [string, string];
    if (token.length === 0 || !BASE64.test(token)) {
      throw new TokenizerError(`${where}: ${JSON.stringify(token.slice(0, 80))} is not valid base64`);
    }
    if (!RANK.test(rankText)) {
      throw new TokenizerError(`${where}: rank ${JSON.stringify(rankText)} is not a non-negative integer`);
    }
    const rank = Number(rankText);
    if (seenTokens.has(token)) throw new TokenizerError(`${where}: token ${token} appears twice`);
    // Base64 ignores a final group's spare bits, so "IR==" is "!" as "IQ==" is: compare the bytes.
    const bytes = atob(token);
    const earlier = seenBytes.get(bytes);
    if (earlier !== undefined) {
      throw new TokenizerError(
        `${where}: token ${token} is the same bytes as line ${earlier}'s token (written in another base64); each token's bytes must appear once`,
      );
    }
    seenBytes.set(bytes, index + 1);
    if (seenRanks.has(rank)) throw new TokenizerError(`${where}: rank ${rank} appears twice`);
    seenTokens.add(token);
    seenRanks.add(rank);
    if (rank > maxRank) {
      maxRank = rank;
      maxRankLine = index + 1;
    }
  }
  const count = seenRanks.size;
  if (count === 0) throw new TokenizerError(`${source}: the file contains no token ranks`);
  if (maxRank !== count - 1) {
    throw new TokenizerError(
      `${source}, line ${maxRankLine}: rank ${maxRank} leaves gaps; the ${count} ranks must be exactly 0..${count - 1} ` +
        'because the special tokens are numbered right after them',
    );
  }
  // tiktoken's byte-pair encoder starts from single bytes and aborts (WASM "unreachable") on text
  // holding a byte that is not a token of its own.
  const missing: number[] = [];
  for (let byte = 0; byte < 256; byte++) if (!seenBytes.has(String.fromCharCode(byte))) missing.push(byte);
  if (missing.length > 0) {
    const shown = missing.slice(0, 8).map((byte) => `0x${byte.toString(16).padStart(2, '0')}`);
    throw new TokenizerError(
      `${source}: ${missing.length} of the 256 single bytes are not tokens (${shown.join(', ')}${missing.length > 8 ? ', ...' : ''}); ` +
        'a BPE rank file must give every byte a rank of its own',
    );
  }
  return count;
}

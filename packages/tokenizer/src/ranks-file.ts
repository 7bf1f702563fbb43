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

const BASE64_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Whether a (valid) base64 string leaves its final group's spare bits zero, as encoders write it. */
function isCanonicalBase64(token: string): boolean {
  const padding = token.endsWith('==') ? 2 : token.endsWith('=') ? 1 : 0;
  if (padding === 0) return true;
  const last = BASE64_DIGITS.indexOf(token[token.length - padding - 1] as string);
  return (last & (padding === 2 ? 0xf : 0x3)) === 0;
}

export function validateRanksFile(contents: string, source: string): number {
  if (typeof contents !== 'string') {
    throw new TokenizerError(`${source}: expected the text of a tiktoken BPE rank file, got ${typeof contents}`);
  }
  const lines = contents.split('\n');
  /** Each token (its base64) and its line. */
  const seenTokens = new Map<string, number>();
  /** Tokens whose base64 sets spare bits (another spelling of some bytes), checked at the end. */
  const nonCanonical: { token: string; line: number }[] = [];
  const singleBytes = new Uint8Array(256);
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
    // Base64 ignores a final group's spare bits, so "IR==" is "!" as "IQ==" is: such spellings are
    // compared by their bytes at the end (canonical ones are equal bytes only when equal text).
    if (!isCanonicalBase64(token)) nonCanonical.push({ token, line: index + 1 });
    else if (token.length === 4 && token.endsWith('==')) singleBytes[atob(token).charCodeAt(0)] = 1;
    if (seenRanks.has(rank)) throw new TokenizerError(`${where}: rank ${rank} appears twice`);
    seenTokens.set(token, index + 1);
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
  for (const { token, line } of nonCanonical) {
    const bytes = atob(token);
    const canonical = btoa(bytes);
    const earlier =
      seenTokens.get(canonical) ??
      nonCanonical.find((other) => other.token !== token && atob(other.token) === bytes)?.line;
    if (earlier !== undefined) {
      const [first, second] = [earlier, line].sort((a, b) => a - b);
      throw new TokenizerError(
        `${source}, line ${second}: its token is the same bytes as line ${first}'s, written in another base64 (${canonical}); each token's bytes must appear once`,
      );
    }
    if (bytes.length === 1) singleBytes[bytes.charCodeAt(0)] = 1;
  }
  // tiktoken's byte-pair encoder starts from single bytes and aborts (WASM "unreachable") on text
  // holding a byte that is not a token of its own.
  const missing: number[] = [];
  for (let byte = 0; byte < 256; byte++) if (!singleBytes[byte]) missing.push(byte);
  if (missing.length > 0) {
    const shown = missing.slice(0, 8).map((byte) => `0x${byte.toString(16).padStart(2, '0')}`);
    throw new TokenizerError(
      `${source}: ${missing.length} of the 256 single bytes are not tokens (${shown.join(', ')}${missing.length > 8 ? ', ...' : ''}); ` +
        'a BPE rank file must give every byte a rank of its own',
    );
  }
  return count;
}

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
  return count;
}

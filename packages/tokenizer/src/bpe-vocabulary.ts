import { byteLevelDecode, byteLevelEncode } from './byte-level.js';
import { TokenizerError } from './errors.js';
import { validateRanksFile } from './ranks-file.js';
import { BEGIN_OF_TEXT, END_OF_TEXT, EOT_ID, SPECIAL_TOKEN_NAMES } from './special-tokens.js';

/**
 * A byte-level BPE vocabulary as GGUF (`tokenizer.ggml.*` with model "gpt2") and Hugging Face's
 * `tokenizer.json` store Llama 3's: every id's token, ordinary tokens in GPT-2's byte-level text,
 * special ones as their literal text, and the merges.
 *
 * The route to exact Llama 3 ids: the token id is tiktoken's rank, so the vocabulary becomes a
 * tiktoken rank file again and runs on the same engine as `tokenizer.model`. tiktoken merges the
 * adjacent pair whose joined token has the lowest rank, which is what the merges list says exactly
 * when the merges are in the order of the ids of the tokens they make (as Llama 3's are:
 * transformers derives them from the ranks so); that order is checked.
 */
export interface BPEVocabulary {
  /** Every id's token. */
  tokens: readonly string[];
  /**
   * GGUF token types: 1 (normal) and 6 (byte) are BPE tokens, every other type (control 3,
   * user-defined 4, unknown 2, unused 5) a special token matched by its text. Default: the ids in
   * `specialIds` are special, the rest normal.
   */
  tokenTypes?: readonly number[];
  specialIds?: ReadonlySet<number>;
  /** "left right" (or [left, right]) in priority order. */
  merges?: readonly (string | readonly [string, string])[];
  /** Default: the ids of Llama 3's names (<|begin_of_text|>, <|end_of_text|>, <|eot_id|>, else eos). */
  bosId?: number;
  eosId?: number;
  eotId?: number;
  /** Llama 3.1's end of message (<|eom_id|>), a stop token too. */
  eomId?: number;
  /** Named in error messages. */
  source: string;
}

/** What Tokenizer's constructor needs, derived from a vocabulary. */
export interface TiktokenParts {
  ranks: string;
  numBaseTokens: number;
  nWords: number;
  specialTokens: Map<string, number>;
  bosId: number;
  eosId: number;
  eotId: number;
  stopTokens: Set<number>;
}

const NORMAL = 1;
const BYTE = 6;
/** Stop tokens by name, as llama.cpp's end-of-generation set has them. */
const STOP_TOKEN_NAMES = [END_OF_TEXT, EOT_ID, '<|eom_id|>'];

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** A byte-level BPE vocabulary as a tiktoken rank file (rank = id) and its special tokens. */
export function tiktokenPartsFromVocabulary(vocab: BPEVocabulary): TiktokenParts {
  const { tokens, source } = vocab;
  if (!Array.isArray(tokens) || tokens.length === 0)
    throw new TokenizerError(`${source}: the vocabulary has no tokens`);
  if (vocab.tokenTypes && vocab.tokenTypes.length !== tokens.length) {
    throw new TokenizerError(
      `${source}: ${vocab.tokenTypes.length} token types for ${tokens.length} tokens; expected one per token`,
    );
  }
  const lines: string[] = [];
  const rankOf = new Map<string, number>();
  const specialTokens = new Map<string, number>();
  const singleBytes = new Set<number>();
  tokens.forEach((token, id) => {
    if (typeof token !== 'string') throw new TokenizerError(`${source}: token ${id} is not a string`);
    const type = vocab.tokenTypes?.[id] ?? (vocab.specialIds?.has(id) ? 3 : NORMAL);
    if (type !== NORMAL && type !== BYTE) {
      if (specialTokens.has(token))
        throw new TokenizerError(`${source}: special token ${JSON.stringify(token)} appears twice`);
      specialTokens.set(token, id);
      return;
    }
    const bytes = byteLevelDecode(token);
    if (bytes === undefined || bytes.length === 0) {
      throw new TokenizerError(
        `${source}: token ${id} ${JSON.stringify(token)} is not byte-level BPE text (GPT-2's byte-to-unicode alphabet)`,
      );
    }
    if (rankOf.has(token)) throw new TokenizerError(`${source}: token ${id} ${JSON.stringify(token)} appears twice`);
    rankOf.set(token, id);
    if (bytes.length === 1) singleBytes.add(bytes[0] as number);
    lines.push(`${toBase64(bytes)} ${id}`);
  });
  if (singleBytes.size !== 256) {
    const missing = Array.from({ length: 256 }, (_, b) => b).find((b) => !singleBytes.has(b)) as number;
    throw new TokenizerError(
      `${source}: the vocabulary lacks the single byte 0x${missing.toString(16).padStart(2, '0')} (${JSON.stringify(byteLevelEncode(Uint8Array.of(missing)))}); a byte-level BPE needs all 256`,
    );
  }
  if (vocab.merges) checkMergesInRankOrder(vocab.merges, rankOf, source);

  const idOf = (name: string) => specialTokens.get(name);
  const checkId = (field: string, id: number | undefined): number => {
    if (id === undefined || !Number.isInteger(id) || id < 0 || id >= tokens.length) {
      throw new TokenizerError(`${source}: ${field} is ${String(id)}; expected a token id below ${tokens.length}`);
    }
    return id;
  };
  const bosId = checkId('the begin-of-text id', vocab.bosId ?? idOf(BEGIN_OF_TEXT));
  const eosId = checkId('the end-of-text id', vocab.eosId ?? idOf(END_OF_TEXT));
  const eotId = checkId('the end-of-turn id', vocab.eotId ?? idOf(EOT_ID) ?? eosId);
  const stopTokens = new Set([eosId, eotId]);
  if (vocab.eomId !== undefined) stopTokens.add(checkId('the end-of-message id', vocab.eomId));
  for (const name of STOP_TOKEN_NAMES) {
    const id = idOf(name);
    if (id !== undefined) stopTokens.add(id);
  }
  return {
    ranks: lines.join('\n'),
    numBaseTokens: lines.length,
    nWords: tokens.length,
    specialTokens,
    bosId,
    eosId,
    eotId,
    stopTokens,
  };
}

function checkMergesInRankOrder(
  merges: readonly (string | readonly [string, string])[],
  rankOf: ReadonlyMap<string, number>,
  source: string,
): void {
  let previous = -1;
  merges.forEach((merge, i) => {
    const pair = typeof merge === 'string' ? splitMerge(merge) : merge;
    const where = `${source}: merge ${i} (${JSON.stringify(typeof merge === 'string' ? merge : merge.join(' '))})`;
    if (pair?.length !== 2) throw new TokenizerError(`${where} is not two tokens separated by a space`);
    const [left, right] = pair;
    const rank = rankOf.get(left + right);
    if (rank === undefined || !rankOf.has(left) || !rankOf.has(right)) {
      throw new TokenizerError(`${where} joins tokens that are not all in the vocabulary`);
    }
    if (rank < previous) {
      throw new TokenizerError(
        `${where} makes token ${rank} after a merge made token ${previous}: llama-ts merges by token id (tiktoken's ranks), which reproduces a merges list only in the order of the ids it makes, as Llama 3's is`,
      );
    }
    previous = rank;
  });
}

function splitMerge(merge: string): [string, string] | undefined {
  const space = merge.indexOf(' ', 1);
  if (space < 0 || merge.indexOf(' ', space + 1) >= 0) return undefined;
  return [merge.slice(0, space), merge.slice(space + 1)];
}

/**
 * Llama 3's `tokenizer.model` (tiktoken ranks) as the byte-level vocabulary llama.cpp's converter
 * writes into a GGUF (and transformers into tokenizer.json): the tokens, their types (normal, then
 * the 256 special tokens as control) and the merges (every split of a token into two tokens, in the
 * order of the token's rank, then of the parts' ranks, as transformers derives them).
 */
export function byteLevelVocabularyFromRanks(
  contents: string,
  source = 'tokenizer ranks',
): { tokens: string[]; tokenTypes: number[]; merges: string[] } {
  const count = validateRanksFile(contents, source);
  const byRank: Uint8Array[] = new Array(count);
  for (const line of contents.split('\n')) {
    const [base64, rank] = line.trim().split(/\s+/);
    if (base64 && rank) byRank[Number(rank)] = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }
  const tokens = byRank.map(byteLevelEncode);
  const rankOf = new Map(tokens.map((token, rank) => [token, rank]));
  const merges: string[] = [];
  for (const token of tokens) {
    const chars = [...token];
    const splits: [number, number, string][] = [];
    for (let i = 1; i < chars.length; i++) {
      const left = chars.slice(0, i).join('');
      const right = chars.slice(i).join('');
      const l = rankOf.get(left);
      const r = rankOf.get(right);
      if (l !== undefined && r !== undefined) splits.push([l, r, `${left} ${right}`]);
    }
    splits.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const split of splits) merges.push(split[2]);
  }
  return {
    tokens: [...tokens, ...SPECIAL_TOKEN_NAMES],
    tokenTypes: [...tokens.map(() => NORMAL), ...SPECIAL_TOKEN_NAMES.map(() => 3)],
    merges,
  };
}

/**
 * Encode throughput of @llama-ts/tokenizer against raw tiktoken on the same ranks, the SentencePiece
 * tokenizer (Llama 1/2) beside it on the same corpus, and the cost of long inputs without whitespace.
 * Run: pnpm --filter @llama-ts/tokenizer bench
 */
import { readSharedText, sharedPath } from '@llama-ts/test-support';
import { Tiktoken } from 'tiktoken';
import { LLAMA3_PATTERN, loadSentencePieceTokenizer, loadTokenizer, SPECIAL_TOKEN_NAMES } from '../src/node.js';

const REPS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Median wall time in ms over `reps` runs after one warm-up. */
function time(fn: () => unknown, reps = REPS): number {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const modelPath = sharedPath('data', 'llama3', 'tokenizer.model');
const loadStart = performance.now();
const tokenizer = await loadTokenizer(modelPath);
const loadMs = performance.now() - loadStart;

const ranks = readSharedText('data', 'llama3', 'tokenizer.model');
const raw = new Tiktoken(
  ranks,
  Object.fromEntries(SPECIAL_TOKEN_NAMES.map((name, i) => [name, tokenizer.numBaseTokens + i])),
  LLAMA3_PATTERN,
);

const corpus = readSharedText('data', 'tiny_shakespeare.txt');
const megabytes = Buffer.byteLength(corpus) / 1e6;
const oursMs = time(() => tokenizer.encode(corpus));
const rawMs = time(() => raw.encode_ordinary(corpus));
const oursMBs = megabytes / (oursMs / 1e3);
const rawMBs = megabytes / (rawMs / 1e3);

console.log(`tokenizer load (validate + build): ${loadMs.toFixed(0)} ms`);
console.log(`\nencode Tiny Shakespeare (${megabytes.toFixed(2)} MB), median of ${REPS}:`);
console.log(`  @llama-ts/tokenizer  ${oursMBs.toFixed(2)} MB/s  (${oursMs.toFixed(0)} ms)`);
console.log(`  raw tiktoken         ${rawMBs.toFixed(2)} MB/s  (${rawMs.toFixed(0)} ms)`);
console.log(`  ratio                ${(oursMBs / rawMBs).toFixed(3)}  (goal >= 0.9)`);

// SentencePiece: the shared BPE model made with Llama 2's trainer settings (4096 pieces). The first
// encode fills the word cache; later ones reuse it, as a long-running process would.
const sentencePiecePath = sharedPath('data', 'sentencepiece', 'shakespeare-bpe-4k.model');
const spLoadStart = performance.now();
const sentencePiece = await loadSentencePieceTokenizer(sentencePiecePath);
const spLoadMs = performance.now() - spLoadStart;
const coldStart = performance.now();
sentencePiece.encode(corpus);
const spColdMs = performance.now() - coldStart;
const spWarmMs = time(() => sentencePiece.encode(corpus));
console.log(`\nSentencePiece (Llama 2 format, 4096 pieces; load ${spLoadMs.toFixed(0)} ms), same corpus:`);
console.log(
  `  first encode (empty word cache)  ${(megabytes / (spColdMs / 1e3)).toFixed(2)} MB/s  (${spColdMs.toFixed(0)} ms)`,
);
console.log(
  `  median of ${REPS} (cached words)     ${(megabytes / (spWarmMs / 1e3)).toFixed(2)} MB/s  (${spWarmMs.toFixed(0)} ms)`,
);
console.log(`  Llama 3 tokenizer                ${oursMBs.toFixed(2)} MB/s`);
const spLong = 'thequickbrownfoxjumpsoverthelazydog'.repeat(30_000).slice(0, 1_000_000);
const spLongMs = time(() => sentencePiece.encode(spLong), 1);
console.log(`  1 MB without whitespace (one word, one heap)  ${(spLongMs / 1e3).toFixed(2)} s`);

function noSpaceText(length: number): string {
  const alphabet = 'thequickbrownfoxjumpsoverthelazydog';
  return alphabet.repeat(Math.ceil(length / alphabet.length)).slice(0, length);
}

console.log('\nencode text without whitespace (one run of letters), single run each:');
for (const length of [250_000, 500_000, 1_000_000]) {
  const text = noSpaceText(length);
  const ms = time(() => tokenizer.encode(text), 1);
  console.log(
    `  ${(length / 1e6).toFixed(2)} MB  ${(ms / 1e3).toFixed(2)} s  (${(ms / (length / 1e6) / 1e3).toFixed(2)} s per MB)`,
  );
}
console.log('raw tiktoken on the same text, unsplit (BPE is quadratic in the length of one piece):');
for (const length of [25_000, 50_000, 100_000]) {
  const ms = time(() => raw.encode_ordinary(noSpaceText(length)), 1);
  console.log(
    `  ${(length / 1e3).toFixed(0)} kB  ${(ms / 1e3).toFixed(2)} s  (${(ms / (length / 1e6) / 1e3).toFixed(2)} s per MB)`,
  );
}
raw.free();
tokenizer.free();

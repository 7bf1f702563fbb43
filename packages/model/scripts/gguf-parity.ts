// Checks that GGUF files written by llama.cpp's side (../shared/peer/make-perf-pair: the same random
// 110M weights as a Meta f32 checkpoint and as perf-f32/f16/q8_0.gguf) give our log-probs of the
// Meta checkpoint: f32 and f16 equal to float rounding, q8_0 within its quantisation error.
// Not part of the test suite (the files are not in ../shared):
//
//   pnpm --filter @llama-ts/model exec tsx scripts/gguf-parity.ts [../perf-pair] [--backend wasm]
import { join, resolve } from 'node:path';
import { type BackendChoice, createBackend } from '@llama-ts/kernels';
import { loadModel, type WeightStorage } from '../src/index.js';

const args = process.argv.slice(2);
const backendAt = args.indexOf('--backend');
const kind = (backendAt >= 0 ? args.splice(backendAt, 2)[1] : 'wasm') as BackendChoice;
const dir = resolve(args[0] ?? '../../../perf-pair');
const backend = await createBackend({ kind, log: null });

/** 32 ids spread over the vocabulary (deterministic). */
const tokens = Array.from({ length: 32 }, (_, i) => (i * 7919 + 13) % 32000);

async function logProbs(path: string, weightStorage: WeightStorage = 'auto'): Promise<number[]> {
  const started = Date.now();
  const model = await loadModel(path, { backend, maxSeqLen: 64, weightStorage });
  const loaded = Date.now();
  const logits = await model.forward([tokens], 0, { logits: 'all' });
  const vocab = model.args.vocabSize;
  model.dispose();
  const out: number[] = [];
  for (let t = 0; t < tokens.length - 1; t++) {
    const row = logits.subarray(t * vocab, (t + 1) * vocab);
    let max = Number.NEGATIVE_INFINITY;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    out.push((row[tokens[t + 1] as number] as number) - (Math.log(sum) + max));
  }
  console.log(`${path} (${weightStorage}): loaded in ${loaded - started} ms, forward ${Date.now() - loaded} ms`);
  return out;
}

const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number))));
let failed = false;
const check = (what: string, a: number[], b: number[], bound?: number) => {
  const diff = maxDiff(a, b);
  const ok = bound === undefined || diff <= bound;
  failed ||= !ok;
  const verdict =
    bound === undefined ? '(quantisation error, for information)' : `(bound ${bound}) ${ok ? 'ok' : 'FAILED'}`;
  console.log(`${what}: max |Δ log-prob| = ${diff.toExponential(3)} ${verdict}`);
};
const metaF32 = await logProbs(join(dir, 'meta'), 'f32');
// The same numbers on both sides: f32 as stored, f16 as numpy and we round f32 to f16 (nearest even).
check('perf-f32.gguf vs the Meta checkpoint (f32)', await logProbs(join(dir, 'perf-f32.gguf')), metaF32, 1e-4);
const metaF16 = await logProbs(join(dir, 'meta'), 'f16');
check('perf-f16.gguf vs the Meta checkpoint stored as f16', await logProbs(join(dir, 'perf-f16.gguf')), metaF16, 1e-4);
// q8_0: llama.cpp's blocks, read by the q8_0 kernels, against the same blocks dequantised to f32 on
// load (the kernels compute with the same weights either way).
const q8 = await logProbs(join(dir, 'perf-q8_0.gguf'));
check(
  'perf-q8_0.gguf (q8_0 kernels) vs its weights dequantised to f32',
  q8,
  await logProbs(join(dir, 'perf-q8_0.gguf'), 'f32'),
  1e-3,
);
check('perf-q8_0.gguf vs the Meta checkpoint (f32)', q8, metaF32);
check('the Meta checkpoint stored as q8_0 by llama-ts vs f32', await logProbs(join(dir, 'meta'), 'q8_0'), metaF32);
check('perf-f16.gguf vs the Meta checkpoint (f32)', await logProbs(join(dir, 'perf-f16.gguf')), metaF32);
backend.destroy();
process.exitCode = failed ? 1 : 0;

import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writePthCheckpoint } from '@llama-ts/model';
import { randomLlamaTensors, readSharedJson, sharedPath } from '@llama-ts/test-support';

/** The built CLI (turbo builds it before the tests). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export interface GoldenExpected {
  tokens: number[];
  prompt_logprobs: number[];
  greedy: { tokens: number[]; margins: number[]; logprobs: number[] };
  tolerances: { logprob_atol: number; greedy_near_tie_margin: number };
}

export const GOLDEN = ['tiny-meta-bf16', 'tiny-hf-f16'] as const;

export function goldenDir(name: string): string {
  return sharedPath('golden', name);
}

export function goldenExpected(name: string): GoldenExpected {
  return readSharedJson<GoldenExpected>('golden', name, 'expected.json');
}

export const LLAMA3_TOKENIZER = sharedPath('data', 'llama3', 'tokenizer.model');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with a time limit; stdin is closed (or given `input`). */
export function runCli(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`llama-ts ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Seeded normal samples (Box–Muller over mulberry32). */
function normals(count: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++)
    out[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()) * scale;
  return out;
}

/**
 * A random model with Llama 3's vocabulary (128256), small enough for the CPU backend, as a Meta
 * checkpoint (f32), so that the chat endpoints can run with the real tokenizer. (As
 * packages/generation/test/fixtures.ts.)
 */
export async function randomLlama3Checkpoint(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-ts-cli-llama3-'));
  const dim = 64;
  const vocab = 128256;
  const hidden = 192;
  await writeFile(
    join(dir, 'params.json'),
    JSON.stringify({
      dim,
      n_layers: 2,
      n_heads: 4,
      n_kv_heads: 2,
      vocab_size: vocab,
      multiple_of: 32,
      norm_eps: 1e-5,
      rope_theta: 500000,
    }),
  );
  const shapes: [string, number[], number][] = [
    ['tok_embeddings.weight', [vocab, dim], 1],
    ['norm.weight', [dim], 0],
    ['output.weight', [vocab, dim], 4],
  ];
  for (let i = 0; i < 2; i++) {
    shapes.push(
      [`layers.${i}.attention_norm.weight`, [dim], 0],
      [`layers.${i}.attention.wq.weight`, [dim, dim], 0.125],
      [`layers.${i}.attention.wk.weight`, [32, dim], 0.125],
      [`layers.${i}.attention.wv.weight`, [32, dim], 0.125],
      [`layers.${i}.attention.wo.weight`, [dim, dim], 0.125],
      [`layers.${i}.ffn_norm.weight`, [dim], 0],
      [`layers.${i}.feed_forward.w1.weight`, [hidden, dim], 0.125],
      [`layers.${i}.feed_forward.w2.weight`, [dim, hidden], 0.07],
      [`layers.${i}.feed_forward.w3.weight`, [hidden, dim], 0.125],
    );
  }
  await writePthCheckpoint(
    join(dir, 'consolidated.00.pth'),
    shapes.map(([name, shape, scale], i) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const values = scale === 0 ? new Float32Array(size).fill(1) : normals(size, i + 1, scale);
      return { name, shape, dtype: 'f32' as const, data: new Uint8Array(values.buffer) };
    }),
  );
  return dir;
}

export const SENTENCEPIECE_TOKENIZER = sharedPath('data', 'sentencepiece', 'shakespeare-bpe-4k.model');

/**
 * A random model in Llama 2's layout (Meta's params.json fields: vocab_size -1, no rope_theta, no
 * n_kv_heads) with ../shared's SentencePiece tokenizer beside it as `tokenizer.model`.
 */
export async function randomLlama2Checkpoint(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-ts-cli-llama2-'));
  const params = { dim: 64, multiple_of: 32, n_heads: 4, n_layers: 2, norm_eps: 1e-5, vocab_size: -1 };
  await writeFile(join(dir, 'params.json'), JSON.stringify(params));
  const sizes = { dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 4, vocabSize: 4096, ffnHiddenDim: 192 };
  await writePthCheckpoint(
    join(dir, 'consolidated.00.pth'),
    randomLlamaTensors(sizes, 5).map((t) => ({
      name: t.name,
      shape: t.shape,
      dtype: 'f32' as const,
      data: new Uint8Array(t.values.buffer),
    })),
  );
  await copyFile(SENTENCEPIECE_TOKENIZER, join(dir, 'tokenizer.model'));
  return dir;
}

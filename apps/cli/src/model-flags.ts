import { statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Llama } from '@llama-ts/generation';
import { type Backend, type BackendChoice, createBackend } from '@llama-ts/kernels';
import type { WeightStorage } from '@llama-ts/model';
import { tokenizerFamily } from '@llama-ts/tokenizer/node';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError } from './errors.js';

import { parseIds } from './ids.js';
import { createLoadProgress } from './progress.js';

/** The model flags shared by complete, chat, bench and serve, as commander parses them. */
export interface ModelFlags {
  /** A .gguf file or a checkpoint folder. */
  model?: string;
  /** --model's older name, for folders. */
  ckptDir?: string;
  tokenizer?: string;
  maxSeqLen?: number;
  maxBatchSize?: number;
  backend?: BackendChoice;
  threads?: number;
  seed?: number;
  weightStorage?: WeightStorage;
  stopTokens?: number[];
}

export interface LoadedModel {
  llama: Llama;
  backend: Backend;
  /** The checkpoint folder or GGUF file. */
  ckptDir: string;
  /** The checkpoint folder's name (a GGUF file's, without .gguf), as /v1/models and bench report it. */
  name: string;
  /** False when the checkpoint has no tokenizer and ids are spelled `<n>` (see idTokenizer). */
  hasTokenizer: boolean;
  dispose(): void;
}

/** Where the built-in model lives: apps/cli/default-model, beside dist/ and src/. */
export function defaultModelDir(): string {
  return fileURLToPath(new URL('../default-model/', import.meta.url));
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

function idList(value: string): number[] {
  try {
    return parseIds(value, 'token ids');
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function addModelFlags(command: Command): Command {
  return command
    .option(
      '-m, --model <path>',
      'a GGUF file (llama architecture, with its tokenizer) or a checkpoint folder: Meta (params.json + consolidated.NN.pth) or Hugging Face (config.json + safetensors); default: the built-in model',
    )
    .option('--ckpt-dir <dir>', 'a checkpoint folder (the older name of --model)')
    .option(
      '--tokenizer <path>',
      "tokenizer.model (Llama 3's tiktoken or Llama 1/2's SentencePiece), tokenizer.json (Hugging Face's Llama 3, or a character tokenizer); default: the GGUF's or the checkpoint folder's, else ids are spelled '<n>'",
    )
    .option('--max-seq-len <n>', 'context length (KV cache positions)', positiveInt)
    .option('--max-batch-size <n>', 'KV cache slots (sequences generated together)', positiveInt)
    .addOption(
      new Option('--backend <kind>', 'compute backend').choices(['auto', 'webgpu', 'wasm', 'cpu']).default('auto'),
    )
    .option('--threads <n>', 'threads of the wasm backend (default: the available cores)', positiveInt)
    .option('--seed <n>', "the sampler's random seed", finiteNumber)
    .addOption(
      new Option(
        '--weight-storage <kind>',
        'how matrices are stored on the device (q4_0 ... q6_k: quantised on load, as llama.cpp would)',
      )
        .choices(['auto', 'f32', 'f16', 'q8_0', 'q6_k', 'q5_k', 'q4_k', 'q4_1', 'q4_0'])
        .default('auto'),
    )
    .option('--stop-tokens <ids>', 'stop token ids, for a checkpoint without a tokenizer (e.g. 1,2)', idList);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The model the flags name: --model (a .gguf file or a folder), --ckpt-dir (a folder), or the built-in one. */
export function resolveModelPath(flags: Pick<ModelFlags, 'model' | 'ckptDir'>): string {
  if (flags.model !== undefined && flags.ckptDir !== undefined) {
    throw new CliError('--model and --ckpt-dir name the same thing (--ckpt-dir is its older name); give one');
  }
  if (flags.model !== undefined) {
    const path = resolve(flags.model);
    if (!exists(path)) throw new CliError(`--model ${flags.model}: no such file or folder`);
    return path;
  }
  if (flags.ckptDir !== undefined) {
    const dir = resolve(flags.ckptDir);
    if (!isFolder(dir)) throw new CliError(`checkpoint folder ${flags.ckptDir} does not exist or is not a folder`);
    return dir;
  }
  const dir = defaultModelDir();
  if (!isFolder(dir)) {
    throw new CliError(
      'no --model given and the built-in default model is not installed (apps/cli/default-model); pass --model',
    );
  }
  return dir;
}

/**
 * The family line the model commands print on stderr: which generation of Llama this is and how it
 * was decided. Nothing for the from-scratch models (character tokenizer, or ids only), which have no
 * chat format and whose family says nothing to the user.
 */
export function describeFamily(llama: Llama): string | undefined {
  const fromTokenizer = tokenizerFamily(llama.tokenizer);
  if (fromTokenizer === 'llama2') return 'Llama 2 family (SentencePiece tokenizer, [INST] chat format)';
  if (fromTokenizer === 'llama3') return 'Llama 3 family (tiktoken tokenizer, header chat format)';
  if (llama.family === 'llama2') return 'Llama 2 family (from the checkpoint; no tokenizer)';
  return undefined;
}

/** Loads the model the flags name, with a progress bar on stderr when it is a terminal. */
export async function loadFromFlags(flags: ModelFlags): Promise<LoadedModel> {
  const ckptDir = resolveModelPath(flags);
  const backend = await createBackend({
    kind: flags.backend ?? 'auto',
    ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
    // Say which backend 'auto' picked on stderr, so that stdout stays the output.
    log: (message) => process.stderr.write(`${message}\n`),
  });
  const progress = createLoadProgress();
  let llama: Llama;
  try {
    llama = await Llama.build({
      ckptDir,
      // Without --tokenizer: the one in the folder, else token ids spelled '<n>'.
      ...(flags.tokenizer !== undefined ? { tokenizerPath: flags.tokenizer } : {}),
      withoutTokenizer: 'ids',
      ...(flags.stopTokens !== undefined ? { stopTokens: flags.stopTokens } : {}),
      backend,
      onProgress: (p) => progress.update(p.loadedBytes, p.totalBytes),
      log: (message) => process.stderr.write(`llama-ts: ${message}\n`),
      ...(flags.maxSeqLen !== undefined ? { maxSeqLen: flags.maxSeqLen } : {}),
      ...(flags.maxBatchSize !== undefined ? { maxBatchSize: flags.maxBatchSize } : {}),
      ...(flags.weightStorage !== undefined ? { weightStorage: flags.weightStorage } : {}),
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    });
  } catch (error) {
    backend.destroy();
    throw error;
  } finally {
    progress.stop();
  }
  const family = describeFamily(llama);
  if (family) process.stderr.write(`llama-ts: ${family}\n`);
  return {
    llama,
    backend,
    ckptDir,
    name: basename(ckptDir, extname(ckptDir) === '.gguf' ? '.gguf' : ''),
    hasTokenizer: llama.hasTokenizer,
    dispose() {
      llama.dispose();
      backend.destroy();
    },
  };
}

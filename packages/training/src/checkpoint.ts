/**
 * Checkpoints in Meta's format, loadable by @llama-ts/model (and by PyTorch / Meta's code):
 * `params.json`, `consolidated.00.pth` (f32 tensors, Meta names, written as torch.save writes
 * them) and `tokenizer.json` (the CharTokenizer's JSON). Beside them, in `resume/`, what
 * `--resume` needs: `optimizer.pth` (Adam's m and v per parameter) and `training-state.json`
 * (step, RNG states, loss log). The resume files live in a subfolder because a Meta checkpoint
 * folder's every `*.pth` is read as a model shard.
 */

import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { argsFromMetaParams, type ModelArgs, openPthCheckpoint, writePthCheckpoint } from '@llama-ts/model';
import { CharTokenizer, type CharTokenizerJSON } from '@llama-ts/tokenizer';
import { numel, parameterSpecs } from './init.js';
import { LossLog, type LossRecord } from './metrics.js';
import { Rng, type RngState } from './rng.js';

export const PARAMS_FILE = 'params.json';
export const WEIGHTS_FILE = 'consolidated.00.pth';
export const TOKENIZER_FILE = 'tokenizer.json';
export const RESUME_DIR = 'resume';
export const OPTIMIZER_FILE = 'optimizer.pth';
export const TRAINING_STATE_FILE = 'training-state.json';

/** Meta's params.json plus `max_seq_len`, the context the model was trained with. */
export interface MetaParams {
  dim: number;
  n_layers: number;
  n_heads: number;
  n_kv_heads: number;
  vocab_size: number;
  multiple_of: number;
  ffn_dim_multiplier?: number | null;
  norm_eps: number;
  rope_theta: number;
  max_seq_len: number;
}

export type Parameters = ReadonlyMap<string, Float32Array>;

async function writeFileAtomic(path: string, text: string): Promise<void> {
  const partial = `${path}.partial-${process.pid}`;
  try {
    await writeFile(partial, text);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** The ModelArgs `params` describe (maxSeqLen = max_seq_len), checked as the loader checks them. */
export function argsOfParams(params: MetaParams, source = PARAMS_FILE): ModelArgs {
  return argsFromMetaParams(params, {}, source);
}

/** Every parameter present, with the right element count, finite; nothing extra. */
function checkParameters(args: ModelArgs, tensors: Parameters, what: string): { name: string; shape: number[] }[] {
  const specs = parameterSpecs(args);
  const problems: string[] = [];
  for (const { name, shape } of specs) {
    const data = tensors.get(name);
    if (!data) problems.push(`${name} [${shape.join(', ')}] is missing`);
    else if (!(data instanceof Float32Array)) problems.push(`${name} is not a Float32Array`);
    else if (data.length !== numel(shape)) {
      problems.push(`${name} has ${data.length} values, expected ${numel(shape)} for shape [${shape.join(', ')}]`);
    } else {
      const bad = data.findIndex((value) => !Number.isFinite(value));
      if (bad >= 0) problems.push(`${name} holds ${data[bad]} at element ${bad}`);
    }
  }
  const known = new Set(specs.map((spec) => spec.name));
  for (const name of tensors.keys()) if (!known.has(name)) problems.push(`${name} is not a parameter of this model`);
  if (problems.length > 0) {
    const shown = problems.slice(0, 6).join('; ');
    throw new RangeError(`${what}: ${shown}${problems.length > 6 ? `; and ${problems.length - 6} more` : ''}`);
  }
  return specs;
}

function f32Bytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** params.json as written: Meta's field order; ffn_dim_multiplier only when set. */
function paramsJson(params: MetaParams): string {
  const { ffn_dim_multiplier, ...rest } = params;
  const ordered = {
    dim: rest.dim,
    n_layers: rest.n_layers,
    n_heads: rest.n_heads,
    n_kv_heads: rest.n_kv_heads,
    vocab_size: rest.vocab_size,
    multiple_of: rest.multiple_of,
    ...(ffn_dim_multiplier === undefined || ffn_dim_multiplier === null ? {} : { ffn_dim_multiplier }),
    norm_eps: rest.norm_eps,
    rope_theta: rest.rope_theta,
    max_seq_len: rest.max_seq_len,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

export interface CheckpointContents {
  params: MetaParams;
  /** Float32 values by Meta name, row-major, with the shapes of `expectedShapes(args)`. */
  tensors: Parameters;
  tokenizer: CharTokenizer | CharTokenizerJSON;
}

/**
 * Writes `params.json`, `consolidated.00.pth` and `tokenizer.json` into `dir` (created if needed),
 * after checking the tensors against the params and the tokenizer's size against vocab_size.
 */
export async function writeCheckpoint(dir: string, contents: CheckpointContents): Promise<void> {
  const what = `writeCheckpoint ${dir}`;
  const args = argsOfParams(contents.params, `${what}: params`);
  const specs = checkParameters(args, contents.tensors, what);
  const tokenizerJson = contents.tokenizer instanceof CharTokenizer ? contents.tokenizer.toJSON() : contents.tokenizer;
  const tokenizer = CharTokenizer.fromJSON(tokenizerJson, `${what}: tokenizer`);
  if (tokenizer.vocabSize !== args.vocabSize) {
    throw new RangeError(
      `${what}: the tokenizer has ${tokenizer.vocabSize} entries but params.vocab_size is ${args.vocabSize}`,
    );
  }
  await mkdir(dir, { recursive: true });
  await writePthCheckpoint(
    join(dir, WEIGHTS_FILE),
    specs.map(({ name, shape }) => ({
      name,
      shape,
      dtype: 'f32' as const,
      data: f32Bytes(contents.tensors.get(name) as Float32Array),
    })),
  );
  await writeFileAtomic(join(dir, TOKENIZER_FILE), `${JSON.stringify(tokenizer.toJSON())}\n`);
  await writeFileAtomic(join(dir, PARAMS_FILE), paramsJson(contents.params));
}

/** Reads a checkpoint folder's params.json (as written by `writeCheckpoint`). */
export async function readParams(dir: string): Promise<MetaParams> {
  const path = join(dir, PARAMS_FILE);
  const params = JSON.parse(await readFile(path, 'utf8')) as MetaParams;
  argsOfParams(params, path);
  if (!Number.isInteger(params.max_seq_len)) throw new RangeError(`${path}: max_seq_len is missing`);
  return params;
}

// ---------------------------------------------------------------------------------------------
// Resume state

const STATE_FORMAT = 'llama-ts/training-state';
const STATE_VERSION = 1;

export interface TrainingState {
  /** Optimiser updates done (Adam's bias-correction step). The next step to run is `step`. */
  step: number;
  /** Every RNG the loop draws from, by role (e.g. `{ train, eval }`). */
  rng: Record<string, RngState>;
  lossLog: LossRecord[];
  /** Tokens trained on so far. */
  tokensSeen: number;
  /** Wall-clock seconds spent training so far. */
  elapsedSeconds: number;
  /** The preset's name, or anything JSON the loop wants back to check it resumes the same run. */
  preset?: string;
  config?: unknown;
}

/** Adam's first and second moments, one Float32Array per parameter, keyed by Meta name. */
export interface OptimizerMoments {
  m: Parameters;
  v: Parameters;
}

export interface ResumePoint {
  state: TrainingState;
  moments: OptimizerMoments;
}

function checkState(state: TrainingState, what: string): TrainingState {
  if (typeof state !== 'object' || state === null) throw new TypeError(`${what}: expected an object`);
  if (!Number.isInteger(state.step) || state.step < 0) {
    throw new RangeError(`${what}: step must be an integer >= 0, got ${String(state.step)}`);
  }
  for (const [name, value] of [
    ['tokensSeen', state.tokensSeen],
    ['elapsedSeconds', state.elapsedSeconds],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`${what}: ${name} must be a number >= 0, got ${String(value)}`);
    }
  }
  if (typeof state.rng !== 'object' || state.rng === null) throw new TypeError(`${what}: rng must be an object`);
  for (const [role, rngState] of Object.entries(state.rng)) {
    try {
      Rng.fromState(rngState);
    } catch (error) {
      throw new RangeError(`${what}: rng.${role}: ${(error as Error).message}`);
    }
  }
  LossLog.fromJSON(state.lossLog);
  return state;
}

/**
 * Writes `<dir>/resume/optimizer.pth` (tensors `m.<name>` and `v.<name>`, f32, the parameters'
 * shapes) and then `<dir>/resume/training-state.json`. `dir` is the checkpoint folder; its
 * params.json (written first by `writeCheckpoint`) gives the shapes.
 */
export async function writeTrainingState(dir: string, state: TrainingState, moments: OptimizerMoments): Promise<void> {
  const what = `writeTrainingState ${dir}`;
  checkState(state, what);
  const args = argsOfParams(await readParams(dir));
  const specs = checkParameters(args, moments.m, `${what}: m`);
  checkParameters(args, moments.v, `${what}: v`);
  const resumeDir = join(dir, RESUME_DIR);
  await mkdir(resumeDir, { recursive: true });
  const tensors = (['m', 'v'] as const).flatMap((kind) =>
    specs.map(({ name, shape }) => ({
      name: `${kind}.${name}`,
      shape,
      dtype: 'f32' as const,
      data: f32Bytes(moments[kind].get(name) as Float32Array),
    })),
  );
  await writePthCheckpoint(join(resumeDir, OPTIMIZER_FILE), tensors);
  const json = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    ...state,
    lossLog: LossLog.fromJSON(state.lossLog).toJSON(),
  };
  await writeFileAtomic(join(resumeDir, TRAINING_STATE_FILE), `${JSON.stringify(json, null, 2)}\n`);
}

/** Reads what `writeTrainingState` wrote, checking the moments against the folder's params.json. */
export async function readTrainingState(dir: string): Promise<ResumePoint> {
  const statePath = join(dir, RESUME_DIR, TRAINING_STATE_FILE);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `${statePath} does not exist: ${dir} is not a checkpoint written with training state`
        : `${statePath}: ${(error as Error).message}`,
    );
  }
  if (json.format !== STATE_FORMAT || json.version !== STATE_VERSION) {
    throw new Error(`${statePath}: expected format "${STATE_FORMAT}" version ${STATE_VERSION}`);
  }
  const { format: _format, version: _version, ...rest } = json;
  const state = checkState(rest as unknown as TrainingState, statePath);

  const args = argsOfParams(await readParams(dir), join(dir, PARAMS_FILE));
  const optimizerPath = join(dir, RESUME_DIR, OPTIMIZER_FILE);
  const reader = await openPthCheckpoint([optimizerPath]);
  try {
    const byName = new Map(reader.tensors.map((tensor) => [tensor.name, tensor]));
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    const expected = new Set<string>();
    for (const { name, shape } of parameterSpecs(args)) {
      for (const [kind, out] of [
        ['m', m],
        ['v', v],
      ] as const) {
        const key = `${kind}.${name}`;
        expected.add(key);
        const tensor = byName.get(key);
        if (!tensor) throw new Error(`${optimizerPath}: tensor ${key} is missing`);
        if (tensor.dtype !== 'f32' || tensor.shape.join(',') !== shape.join(',')) {
          throw new Error(
            `${optimizerPath}: tensor ${key} is ${tensor.dtype} [${tensor.shape.join(', ')}], expected f32 [${shape.join(', ')}]`,
          );
        }
        const bytes = await tensor.read();
        out.set(key.slice(2), new Float32Array(bytes.slice().buffer, 0, numel(shape)));
      }
    }
    const extra = reader.tensors.find((tensor) => !expected.has(tensor.name));
    if (extra) throw new Error(`${optimizerPath}: unexpected tensor ${extra.name}`);
    return { state: { ...state, lossLog: LossLog.fromJSON(state.lossLog).toJSON() }, moments: { m, v } };
  } finally {
    await reader.close();
  }
}

/** Reads `consolidated.00.pth` back as Float32Arrays (for resuming; f32 checkpoints only). */
export async function readParameters(dir: string): Promise<Map<string, Float32Array>> {
  const args = argsOfParams(await readParams(dir), join(dir, PARAMS_FILE));
  const path = join(dir, WEIGHTS_FILE);
  const reader = await openPthCheckpoint([path]);
  try {
    const byName = new Map(reader.tensors.map((tensor) => [tensor.name, tensor]));
    const out = new Map<string, Float32Array>();
    for (const { name, shape } of parameterSpecs(args)) {
      const tensor = byName.get(name);
      if (!tensor) throw new Error(`${path}: tensor ${name} is missing`);
      if (tensor.dtype !== 'f32' || tensor.shape.join(',') !== shape.join(',')) {
        throw new Error(
          `${path}: tensor ${name} is ${tensor.dtype} [${tensor.shape.join(', ')}], expected f32 [${shape.join(', ')}]`,
        );
      }
      const bytes = await tensor.read();
      out.set(name, new Float32Array(bytes.slice().buffer, 0, numel(shape)));
    }
    return out;
  } finally {
    await reader.close();
  }
}

/**
 * Checkpoints in Meta's format, loadable by @llama-ts/model (and by PyTorch / Meta's code):
 * `params.json`, `consolidated.00.pth` (f32 tensors, Meta names, written as torch.save writes
 * them) and `tokenizer.json` (the CharTokenizer's JSON). The model package writes the folder; this
 * module checks the tensors against the params first and reads f32 weights back for resuming.
 */

import {
  argsFromMetaParams,
  type CheckpointReader,
  type MetaParams,
  type ModelArgs,
  openPthCheckpoint,
  readMetaParams,
  writeMetaCheckpoint,
} from '@llama-ts/model';
import { CharTokenizer, type CharTokenizerJSON } from '@llama-ts/tokenizer/node';
import { asTrainingError, asTrainingErrors, TrainingError } from './errors.js';
import { numel, parameterSpecs } from './init.js';
import { paramsPath, weightsPath } from './run-folder.js';

export type Parameters = ReadonlyMap<string, Float32Array>;

/** The ModelArgs `params` describe (maxSeqLen = max_seq_len), checked as the loader checks them. */
export function argsOfParams(params: MetaParams, source = 'params.json'): ModelArgs {
  try {
    return argsFromMetaParams(params, {}, source);
  } catch (error) {
    throw asTrainingError(error);
  }
}

/** Every parameter present, with the right element count, finite; nothing extra. */
export function checkParameters(
  args: ModelArgs,
  tensors: Parameters,
  what: string,
): { name: string; shape: number[] }[] {
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
    throw new TrainingError(`${what}: ${shown}${problems.length > 6 ? `; and ${problems.length - 6} more` : ''}`);
  }
  return specs;
}

export function f32Bytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
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
  const tokenizer = await asTrainingErrors(() => CharTokenizer.fromJSON(tokenizerJson, `${what}: tokenizer`));
  if (tokenizer.vocabSize !== args.vocabSize) {
    throw new TrainingError(
      `${what}: the tokenizer has ${tokenizer.vocabSize} entries but params.vocab_size is ${args.vocabSize}`,
    );
  }
  await writeMetaCheckpoint(dir, {
    params: contents.params,
    tensors: specs.map(({ name, shape }) => ({
      name,
      shape,
      dtype: 'f32' as const,
      data: f32Bytes(contents.tensors.get(name) as Float32Array),
    })),
    charTokenizer: tokenizer.toJSON(),
  });
}

/** Reads a checkpoint folder's params.json (as written by `writeCheckpoint`). */
export async function readParams(dir: string): Promise<MetaParams> {
  const { path, params } = await asTrainingErrors(() => readMetaParams(dir));
  argsOfParams(params as MetaParams, path);
  if (!Number.isInteger((params as MetaParams).max_seq_len)) {
    throw new TrainingError(`${path}: max_seq_len is missing`);
  }
  return params as MetaParams;
}

/**
 * Reads f32 tensors named `prefix + name` for every parameter of `args` from `reader` (opened on
 * `path`), checking each one's dtype and shape.
 */
export async function readF32Parameters(
  reader: CheckpointReader,
  path: string,
  args: ModelArgs,
  prefix = '',
): Promise<Map<string, Float32Array>> {
  const byName = new Map(reader.tensors.map((tensor) => [tensor.name, tensor]));
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of parameterSpecs(args)) {
    const key = `${prefix}${name}`;
    const tensor = byName.get(key);
    if (!tensor) throw new TrainingError(`${path}: tensor ${key} is missing`);
    if (tensor.dtype !== 'f32' || tensor.shape.join(',') !== shape.join(',')) {
      throw new TrainingError(
        `${path}: tensor ${key} is ${tensor.dtype} [${tensor.shape.join(', ')}], expected f32 [${shape.join(', ')}]`,
      );
    }
    const bytes = await asTrainingErrors(() => tensor.read());
    out.set(name, new Float32Array(bytes.slice().buffer, 0, numel(shape)));
  }
  return out;
}

/** Reads `consolidated.00.pth` back as Float32Arrays (for resuming; f32 checkpoints only). */
export async function readParameters(dir: string): Promise<Map<string, Float32Array>> {
  const args = argsOfParams(await readParams(dir), paramsPath(dir));
  const path = weightsPath(dir);
  const reader = await asTrainingErrors(() => openPthCheckpoint([path]));
  try {
    return await readF32Parameters(reader, path, args);
  } finally {
    await reader.close();
  }
}

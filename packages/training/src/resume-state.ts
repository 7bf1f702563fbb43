/**
 * What `resume` needs beside a checkpoint, in its `resume/` folder: `optimizer.pth` (Adam's m and v
 * per parameter, f32, the parameters' shapes) and `training-state.json` (step, RNG states, loss log).
 */

import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { openPthCheckpoint, writePthCheckpoint } from '@llama-ts/model';
import {
  argsOfParams,
  checkParameters,
  f32Bytes,
  type Parameters,
  readF32Parameters,
  readParams,
} from './checkpoint.js';
import { asTrainingErrors, TrainingError } from './errors.js';
import { LossLog, type LossRecord } from './metrics.js';
import { type RngState, TrainingRng } from './rng.js';
import { optimizerStatePath, paramsPath, trainingStatePath } from './run-folder.js';

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
  if (typeof state !== 'object' || state === null) throw new TrainingError(`${what}: expected an object`);
  if (!Number.isInteger(state.step) || state.step < 0) {
    throw new TrainingError(`${what}: step must be an integer >= 0, got ${String(state.step)}`);
  }
  for (const [name, value] of [
    ['tokensSeen', state.tokensSeen],
    ['elapsedSeconds', state.elapsedSeconds],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TrainingError(`${what}: ${name} must be a number >= 0, got ${String(value)}`);
    }
  }
  if (typeof state.rng !== 'object' || state.rng === null) throw new TrainingError(`${what}: rng must be an object`);
  for (const [role, rngState] of Object.entries(state.rng)) {
    try {
      TrainingRng.fromState(rngState);
    } catch (error) {
      throw new TrainingError(`${what}: rng.${role}: ${(error as Error).message}`);
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
  await mkdir(dirname(trainingStatePath(dir)), { recursive: true });
  const tensors = (['m', 'v'] as const).flatMap((kind) =>
    specs.map(({ name, shape }) => ({
      name: `${kind}.${name}`,
      shape,
      dtype: 'f32' as const,
      data: f32Bytes(moments[kind].get(name) as Float32Array),
    })),
  );
  await writePthCheckpoint(optimizerStatePath(dir), tensors);
  const json = {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    ...state,
    lossLog: LossLog.fromJSON(state.lossLog).toJSON(),
  };
  await writeFileAtomic(trainingStatePath(dir), `${JSON.stringify(json, null, 2)}\n`);
}

/** Reads what `writeTrainingState` wrote, checking the moments against the folder's params.json. */
export async function readTrainingState(dir: string): Promise<ResumePoint> {
  const statePath = trainingStatePath(dir);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TrainingError(
      code === 'ENOENT'
        ? `${statePath} does not exist: ${dir} is not a checkpoint written with training state`
        : `${statePath}: ${(error as Error).message}`,
    );
  }
  if (json.format !== STATE_FORMAT || json.version !== STATE_VERSION) {
    throw new TrainingError(`${statePath}: expected format "${STATE_FORMAT}" version ${STATE_VERSION}`);
  }
  const { format: _format, version: _version, ...rest } = json;
  const state = checkState(rest as unknown as TrainingState, statePath);

  const args = argsOfParams(await readParams(dir), paramsPath(dir));
  const optimizerPath = optimizerStatePath(dir);
  const reader = await asTrainingErrors(() => openPthCheckpoint([optimizerPath]));
  try {
    const m = await readF32Parameters(reader, optimizerPath, args, 'm.');
    const v = await readF32Parameters(reader, optimizerPath, args, 'v.');
    const extra = reader.tensors.find((tensor) => {
      const kind = tensor.name.slice(0, 2);
      const name = tensor.name.slice(2);
      return !((kind === 'm.' && m.has(name)) || (kind === 'v.' && v.has(name)));
    });
    if (extra) throw new TrainingError(`${optimizerPath}: unexpected tensor ${extra.name}`);
    return { state: { ...state, lossLog: LossLog.fromJSON(state.lossLog).toJSON() }, moments: { m, v } };
  } finally {
    await reader.close();
  }
}

/**
 * A preset with overrides applied and every field checked: what the training loop runs. Errors
 * name the field (`steps`, `model.dim`, ...) and what was expected.
 */

import type { TargetAlignment } from './data.js';
import { TrainingError } from './errors.js';
import type { InitScheme } from './init.js';
import { validateOptimizer } from './optimizer.js';
import {
  getPreset,
  type ModelShape,
  type OptimizerConfig,
  PRESETS,
  presetArgs,
  type TrainingPreset,
} from './presets.js';
import { type LrSchedule, validateSchedule } from './schedule.js';

/** Any preset field; `model` and `optimizer` may give only some of their fields. */
export interface PresetOverrides {
  name?: string;
  description?: string;
  model?: Partial<ModelShape>;
  seqLen?: number;
  batchSize?: number;
  targets?: TargetAlignment;
  steps?: number;
  optimizer?: Partial<OptimizerConfig>;
  schedule?: LrSchedule;
  gradClip?: number | null;
  init?: InitScheme;
  seed?: number;
  evalInterval?: number;
  evalBatches?: number;
  checkpointInterval?: number;
}

const PRESET_FIELDS: readonly (keyof PresetOverrides)[] = [
  'name',
  'description',
  'model',
  'seqLen',
  'batchSize',
  'targets',
  'steps',
  'optimizer',
  'schedule',
  'gradClip',
  'init',
  'seed',
  'evalInterval',
  'evalBatches',
  'checkpointInterval',
];
const MODEL_FIELDS: readonly (keyof ModelShape)[] = [
  'dim',
  'n_layers',
  'n_heads',
  'n_kv_heads',
  'multiple_of',
  'ffn_dim_multiplier',
  'norm_eps',
  'rope_theta',
];
const OPTIMIZER_FIELDS: readonly (keyof OptimizerConfig)[] = ['kind', 'beta1', 'beta2', 'eps', 'weightDecay'];

function checkKeys(object: unknown, known: readonly string[], what: string): void {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    throw new TrainingError(`${what} must be an object, got ${JSON.stringify(object)}`);
  }
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      throw new TrainingError(`${what} has an unknown field "${key}"; known: ${known.join(', ')}`);
    }
  }
}

function checkInt(value: unknown, name: string, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new TrainingError(`${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
}

/**
 * The cosine schedule stretched from `fromSteps` to `toSteps` (warmup and decay scaled alike), so
 * that a shorter or longer run still warms up and decays over its own length; a constant schedule
 * as it is.
 */
export function scaleSchedule(schedule: LrSchedule, fromSteps: number, toSteps: number): LrSchedule {
  if (schedule.kind !== 'cosine' || fromSteps === toSteps) return schedule;
  const ratio = toSteps / fromSteps;
  const totalSteps = Math.max(1, Math.round(schedule.totalSteps * ratio));
  const warmupSteps = Math.min(totalSteps, Math.round(schedule.warmupSteps * ratio));
  return { ...schedule, warmupSteps, totalSteps };
}

/** Checks every field of a preset; throws a TrainingError naming the first bad one. */
export function validatePreset(preset: TrainingPreset): void {
  checkKeys(preset, PRESET_FIELDS, 'preset');
  if (typeof preset.name !== 'string' || preset.name === '') {
    throw new TrainingError(`preset.name must be a non-empty string, got ${JSON.stringify(preset.name)}`);
  }
  checkKeys(preset.model, MODEL_FIELDS, 'preset.model');
  checkInt(preset.steps, 'steps', 1);
  checkInt(preset.seqLen, 'seqLen', 2);
  checkInt(preset.batchSize, 'batchSize', 1);
  if (preset.targets !== 'recipe' && preset.targets !== 'next-token') {
    throw new TrainingError(`targets must be 'recipe' or 'next-token', got ${JSON.stringify(preset.targets)}`);
  }
  checkInt(preset.evalInterval, 'evalInterval', 1);
  checkInt(preset.evalBatches, 'evalBatches', 1);
  checkInt(preset.checkpointInterval, 'checkpointInterval', 1);
  if (typeof preset.seed !== 'number' || !Number.isInteger(preset.seed)) {
    throw new TrainingError(`seed must be an integer, got ${JSON.stringify(preset.seed)}`);
  }
  if (preset.gradClip !== null && !(typeof preset.gradClip === 'number' && preset.gradClip > 0)) {
    throw new TrainingError(
      `gradClip must be a positive number or null (no clipping), got ${JSON.stringify(preset.gradClip)}`,
    );
  }
  checkKeys(preset.optimizer, OPTIMIZER_FIELDS, 'optimizer');
  validateOptimizer(preset.optimizer);
  try {
    validateSchedule(preset.schedule);
  } catch (error) {
    throw new TrainingError(`schedule: ${(error as Error).message}`);
  }
  const init = preset.init as { kind?: unknown; std?: unknown };
  if (init?.kind !== 'torch-default' && !(init?.kind === 'normal' && typeof init.std === 'number' && init.std > 0)) {
    throw new TrainingError(
      `init must be { kind: 'torch-default' } or { kind: 'normal', std > 0, scaleResidual }, got ${JSON.stringify(preset.init)}`,
    );
  }
  try {
    // The vocabulary comes from the data later; any size checks the architecture's own fields.
    presetArgs(preset, 2);
  } catch (error) {
    throw new TrainingError(`model: ${(error as Error).message}`);
  }
}

/**
 * `preset` (or the preset of that name) with `overrides` applied, checked. Overriding `steps`
 * without a `schedule` stretches a cosine schedule to the new length (see `scaleSchedule`).
 */
export function resolvePreset(preset: TrainingPreset | string, overrides: PresetOverrides = {}): TrainingPreset {
  let base: TrainingPreset;
  if (typeof preset === 'string') {
    if (!Object.hasOwn(PRESETS, preset)) {
      throw new TrainingError(`preset: unknown training preset "${preset}"; known: ${Object.keys(PRESETS).join(', ')}`);
    }
    base = getPreset(preset);
  } else {
    base = preset;
  }
  checkKeys(overrides, PRESET_FIELDS, 'overrides');
  if (overrides.model !== undefined) checkKeys(overrides.model, MODEL_FIELDS, 'overrides.model');
  if (overrides.optimizer !== undefined) checkKeys(overrides.optimizer, OPTIMIZER_FIELDS, 'overrides.optimizer');
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const steps = overrides.steps ?? base.steps;
  if (overrides.steps !== undefined) checkInt(overrides.steps, 'steps', 1);
  const resolved: TrainingPreset = {
    ...base,
    ...defined,
    model: { ...base.model, ...overrides.model },
    optimizer: { ...base.optimizer, ...overrides.optimizer },
    schedule: overrides.schedule ?? scaleSchedule(base.schedule, base.steps, steps),
  };
  validatePreset(resolved);
  return resolved;
}

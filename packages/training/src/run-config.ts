import type { MetaParams } from '@llama-ts/model';
import type { TargetAlignment } from './data.js';
import type { InitScheme } from './init.js';
import type { OptimizerConfig } from './presets.js';
import type { LrSchedule } from './schedule.js';

// What a run saves about itself, so that `resume` can tell whether it continues the same run.

/**
 * What must be the same for `resume` to continue a run: everything that shapes the updates.
 * (steps, evalInterval, evalBatches and checkpointInterval may change between sessions.)
 */
export interface RunConfig {
  preset: string;
  params: MetaParams;
  batchSize: number;
  targets: TargetAlignment;
  optimizer: OptimizerConfig;
  schedule: LrSchedule;
  gradClip: number | null;
  init: InitScheme;
  seed: number;
  data: { tokens: number; fingerprint: string };
}

export interface SavedConfig {
  run: RunConfig;
  /** Fingerprint of the weights the state was written with, to catch a half-written checkpoint. */
  weights: string;
  steps: number;
}

/** The RNG streams a run draws from, by the role they have in the saved state. */
export const RNG_ROLES = ['train', 'evalTrain', 'evalVal'] as const;
export type RngRole = (typeof RNG_ROLES)[number];

/** FNV-1a over 32-bit words: cheap, and enough to tell two corpora or two weight sets apart. */
export function fingerprint(arrays: Iterable<Int32Array | Float32Array>): string {
  let hash = 0x811c9dc5;
  let length = 0;
  for (const array of arrays) {
    const words = new Uint32Array(array.buffer, array.byteOffset, array.length);
    for (let i = 0; i < words.length; i++) hash = Math.imul(hash ^ (words[i] as number), 0x01000193) >>> 0;
    length += words.length;
  }
  return `${hash.toString(16).padStart(8, '0')}:${length}`;
}

export function normalizedParams(params: MetaParams): MetaParams {
  return { ...params, ffn_dim_multiplier: params.ffn_dim_multiplier ?? null };
}

/** Dotted paths to leaf values, for naming the first field two configurations differ in. */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

export function firstDifference(
  saved: unknown,
  wanted: unknown,
): { path: string; saved: unknown; wanted: unknown } | null {
  const a = flatten(saved, '', new Map());
  const b = flatten(wanted, '', new Map());
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(path) !== b.get(path)) return { path, saved: a.get(path), wanted: b.get(path) };
  }
  return null;
}

export const show = (value: unknown): string => (value === undefined ? 'unset' : JSON.stringify(value));

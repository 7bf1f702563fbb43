/** Learning-rate schedules. Steps count from 0: step s is the s-th optimiser update. */

import { TrainingError } from './errors.js';

export interface CosineScheduleOptions {
  /** Peak learning rate, reached at the end of warmup. */
  maxLr: number;
  /** Floor the cosine decays to (at `totalSteps`, and kept after it). */
  minLr: number;
  /** Linear warmup: step s < warmupSteps uses maxLr × (s + 1) / warmupSteps. 0 for none. */
  warmupSteps: number;
  /** Step at which the decay reaches minLr. */
  totalSteps: number;
}

export type LrSchedule = { kind: 'constant'; lr: number } | ({ kind: 'cosine' } & CosineScheduleOptions);

function checkStep(step: number, what: string): void {
  if (!Number.isInteger(step) || step < 0)
    throw new TrainingError(`${what}: step must be an integer >= 0, got ${step}`);
}

function checkRate(value: number, name: string, what: string): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new TrainingError(`${what}: ${name} must be a finite number >= 0, got ${value}`);
  }
}

/** Checks a schedule's fields; throws a RangeError naming the first bad one. */
export function validateSchedule(schedule: LrSchedule): void {
  if (schedule.kind === 'constant') {
    checkRate(schedule.lr, 'lr', 'constant schedule');
    return;
  }
  if (schedule.kind !== 'cosine') {
    throw new TrainingError(`unknown schedule kind ${JSON.stringify((schedule as { kind: unknown }).kind)}`);
  }
  const what = 'cosine schedule';
  const { maxLr, minLr, warmupSteps, totalSteps } = schedule;
  checkRate(maxLr, 'maxLr', what);
  checkRate(minLr, 'minLr', what);
  if (minLr > maxLr) throw new TrainingError(`${what}: minLr ${minLr} is above maxLr ${maxLr}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new TrainingError(`${what}: warmupSteps must be an integer >= 0, got ${warmupSteps}`);
  }
  if (!Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new TrainingError(`${what}: totalSteps must be a positive integer, got ${totalSteps}`);
  }
  if (warmupSteps > totalSteps) {
    throw new TrainingError(`${what}: warmupSteps ${warmupSteps} is more than totalSteps ${totalSteps}`);
  }
}

/**
 * Linear warmup to maxLr over `warmupSteps`, then half a cosine from maxLr down to minLr at
 * `totalSteps`; minLr after that.
 */
export function lrAt(step: number, options: CosineScheduleOptions): number {
  validateSchedule({ kind: 'cosine', ...options });
  checkStep(step, 'lrAt');
  const { maxLr, minLr, warmupSteps, totalSteps } = options;
  if (step < warmupSteps) return (maxLr * (step + 1)) / warmupSteps;
  if (step >= totalSteps) return minLr;
  const progress = (step - warmupSteps) / (totalSteps - warmupSteps);
  return minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (maxLr - minLr);
}

/** The same rate at every step (the recipe: Adam at 1e-3). */
export function constantLr(lr: number): LrSchedule {
  const schedule: LrSchedule = { kind: 'constant', lr };
  validateSchedule(schedule);
  return schedule;
}

export function cosineLr(options: CosineScheduleOptions): LrSchedule {
  const schedule: LrSchedule = { kind: 'cosine', ...options };
  validateSchedule(schedule);
  return schedule;
}

/** The learning rate of `schedule` at `step`. */
export function learningRate(schedule: LrSchedule, step: number): number {
  if (schedule.kind === 'constant') {
    validateSchedule(schedule);
    checkStep(step, 'learningRate');
    return schedule.lr;
  }
  return lrAt(step, schedule);
}

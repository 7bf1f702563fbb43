/**
 * What a training run would allocate, checked before anything is: sizes come from presets, preset
 * files and flags, and an absurd one (`batchSize` 1e9, `model.n_layers` 1e9) must be a one-line
 * error naming the field and the bytes it would need, not "Invalid typed array length" or a V8
 * heap abort.
 */

import { type Backend, formatBytes } from '@llama-ts/kernels';
import { beyondLimit, type ModelArgs, memoryLimit, modelFootprint } from '@llama-ts/model';
import { TrainingError } from './errors.js';
import type { TrainingPreset } from './presets.js';

/**
 * Bytes a run keeps on the device: f32 weights, gradients and Adam's two moments (4 × 4 bytes per
 * parameter), and the activations the backward pass needs for one batch, about
 * `4 × (layers × (8·dim + 3·ffn + heads·seqLen) + 2·vocab + 2·dim)` bytes per token.
 */
export function trainingFootprint(
  preset: Pick<TrainingPreset, 'batchSize' | 'seqLen'>,
  args: ModelArgs,
): { state: number; activations: number } {
  const perToken =
    4 *
    (args.nLayers * (8 * args.dim + 3 * args.ffnHiddenDim + args.nHeads * preset.seqLen) +
      2 * args.vocabSize +
      2 * args.dim);
  // Four f32 copies of every parameter, counted as the model counts its f32 weights.
  return {
    state: 4 * modelFootprint(args, 'f32').weightBytes,
    activations: preset.batchSize * preset.seqLen * perToken,
  };
}

/** Throws a TrainingError naming the field at fault when the run would not fit `backend`. */
export function checkTrainingFits(preset: TrainingPreset, args: ModelArgs, backend: Backend): void {
  const limit = memoryLimit(backend);
  const { state, activations } = trainingFootprint(preset, args);
  const beyond = beyondLimit(limit);
  if (!(state <= limit.bytes)) {
    throw new TrainingError(
      `model: n_layers ${args.nLayers}, dim ${args.dim} (ffn ${args.ffnHiddenDim}, vocab ${args.vocabSize}) needs ` +
        `${formatBytes(state)} for the weights, gradients and Adam's moments ${beyond}`,
    );
  }
  if (!(state + activations <= limit.bytes)) {
    throw new TrainingError(
      `batchSize ${preset.batchSize} × seqLen ${preset.seqLen} needs about ${formatBytes(activations)} of ` +
        `activations (beside ${formatBytes(state)} of weights and optimiser state) ${beyond}`,
    );
  }
}

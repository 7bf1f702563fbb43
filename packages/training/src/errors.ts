import { ModelError } from '@llama-ts/model';
import { TokenizerError } from '@llama-ts/tokenizer/node';

/**
 * Bad options or inputs given to the training loop (a preset field out of range, an output folder
 * that holds another run, missing resume state): the message names the option and what was
 * expected, and is meant for the user as it is.
 */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

/**
 * Bad input that the model or tokenizer package finds on training's behalf (a params.json, a
 * checkpoint file) as a TrainingError with the same message; any other error as it is.
 */
export function asTrainingError(error: unknown): unknown {
  if (error instanceof ModelError || error instanceof TokenizerError) {
    return new TrainingError(error.message, { cause: error });
  }
  return error;
}

/** Runs `action`, turning what it throws into a TrainingError where `asTrainingError` does. */
export async function asTrainingErrors<T>(action: () => T | Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw asTrainingError(error);
  }
}

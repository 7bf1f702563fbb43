import { ModelError } from '@llama-ts/model';
import { TokenizerError } from '@llama-ts/tokenizer';

/**
 * Bad options or inputs given to the training loop (a preset field out of range, an output folder
 * that holds another run, missing resume state): the message names the option and what was
 * expected, and is meant for the user as it is.
 */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

/**
 * Runs `action`; bad input that the model or tokenizer package finds on training's behalf (a
 * params.json, a checkpoint file) comes out as a TrainingError with the same message.
 */
export async function asTrainingErrors<T>(action: () => T | Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof ModelError || error instanceof TokenizerError) {
      throw new TrainingError(error.message, { cause: error });
    }
    throw error;
  }
}

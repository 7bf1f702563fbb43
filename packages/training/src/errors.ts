/**
 * Bad options or inputs given to the training loop (a preset field out of range, an output folder
 * that holds another run, missing resume state): the message names the option and what was
 * expected, and is meant for the user as it is.
 */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

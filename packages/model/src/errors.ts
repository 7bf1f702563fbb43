/** Bad checkpoints and arguments: the message names the file, tensor or field and what was expected. */
export class ModelError extends Error {
  override name = 'ModelError';
}

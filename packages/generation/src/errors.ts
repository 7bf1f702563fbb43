export class GenerationError extends Error {
  override name = 'GenerationError';
}

/** Every error this package throws on bad input: the message names the file, field or argument. */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

/**
 * A tokenizer file in a format this package recognises but does not read (yet): Hugging Face's
 * `tokenizer.json`. Callers that can go on without a tokenizer (a model driven by token ids) catch it.
 */
export class UnsupportedTokenizerError extends TokenizerError {
  override name = 'UnsupportedTokenizerError';
}

/** A short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

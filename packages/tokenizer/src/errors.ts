/** Every error this package throws on bad input: the message names the file, field or argument. */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

/** A short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

import { CliError } from './errors.js';

/** Token ids written as `1,2,3`, `1 2 3` or a JSON array `[1, 2, 3]`. */
export function parseIds(text: string, what: string): number[] {
  const trimmed = text.trim();
  let parts: unknown[];
  if (trimmed.startsWith('[')) {
    try {
      const json: unknown = JSON.parse(trimmed);
      if (!Array.isArray(json)) throw new Error('not an array');
      parts = json;
    } catch {
      throw new CliError(`${what}: not a JSON array of token ids: ${abbreviate(trimmed)}`);
    }
  } else {
    parts = trimmed === '' ? [] : trimmed.split(/[\s,]+/);
  }
  if (parts.length === 0) throw new CliError(`${what}: no token ids given`);
  return parts.map((part) => {
    const id = typeof part === 'string' && /^\d+$/.test(part) ? Number(part) : part;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new CliError(`${what}: ${JSON.stringify(part)} is not a token id (a non-negative integer)`);
    }
    return id;
  });
}

/** Throws when an id is outside the vocabulary. */
export function checkIdsInVocab(ids: readonly number[], vocabSize: number, what: string): void {
  const bad = ids.find((id) => id >= vocabSize);
  if (bad !== undefined) throw new CliError(`${what}: token id ${bad} is outside the vocabulary (0..${vocabSize - 1})`);
}

function abbreviate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

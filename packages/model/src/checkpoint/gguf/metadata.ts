import { ModelError } from '../../errors.js';
import { GGUF_VALUE_TYPE_NAMES, GGUFValueType } from './format.js';
import type { GGUFMetadataEntry, GGUFValue } from './reader.js';

const INTEGER_TYPES: ReadonlySet<number> = new Set([
  GGUFValueType.UINT8,
  GGUFValueType.INT8,
  GGUFValueType.UINT16,
  GGUFValueType.INT16,
  GGUFValueType.UINT32,
  GGUFValueType.INT32,
  GGUFValueType.UINT64,
  GGUFValueType.INT64,
]);
const FLOAT_TYPES: ReadonlySet<number> = new Set([GGUFValueType.FLOAT32, GGUFValueType.FLOAT64]);

/**
 * Typed access to a GGUF file's metadata, with errors that name the file and the key. Integers
 * are accepted in any integer type (writers differ: u32 here, i32 or u64 there), floats as f32 or
 * f64, as llama.cpp's own loader does.
 */
export class GGUFMetadata {
  constructor(
    readonly entries: ReadonlyMap<string, GGUFMetadataEntry>,
    readonly path: string,
  ) {}

  has(key: string): boolean {
    return this.entries.has(key);
  }

  fail(key: string, problem: string): never {
    throw new ModelError(`${this.path}: metadata "${key}" ${problem}`);
  }

  #describe(entry: GGUFMetadataEntry): string {
    const type =
      entry.type === GGUFValueType.ARRAY
        ? `array of ${GGUF_VALUE_TYPE_NAMES[entry.elementType ?? -1]}`
        : GGUF_VALUE_TYPE_NAMES[entry.type];
    const shown = Array.isArray(entry.value) ? `${entry.value.length} elements` : JSON.stringify(String(entry.value));
    return `${shown} (${type})`;
  }

  #required(key: string, expected: string): GGUFMetadataEntry {
    const entry = this.entries.get(key);
    if (!entry) this.fail(key, `is missing; expected ${expected}`);
    return entry;
  }

  string(key: string): string {
    const entry = this.#required(key, 'a string');
    if (entry.type !== GGUFValueType.STRING) this.fail(key, `is ${this.#describe(entry)}; expected a string`);
    return entry.value as string;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  /** An integer of at least `min` (default 0). */
  integer(key: string, min = 0): number {
    const entry = this.#required(key, `an integer ≥ ${min}`);
    const value = entry.value;
    if (!INTEGER_TYPES.has(entry.type) || typeof value !== 'number' || value < min) {
      this.fail(key, `is ${this.#describe(entry)}; expected an integer ≥ ${min}`);
    }
    return value;
  }

  optionalInteger(key: string, min = 0): number | undefined {
    return this.has(key) ? this.integer(key, min) : undefined;
  }

  /** A finite number greater than 0. */
  positiveNumber(key: string): number {
    const entry = this.#required(key, 'a positive number');
    const value = entry.value;
    if (!FLOAT_TYPES.has(entry.type) || typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
      this.fail(key, `is ${this.#describe(entry)}; expected a positive number (f32)`);
    }
    return value;
  }

  optionalPositiveNumber(key: string): number | undefined {
    return this.has(key) ? this.positiveNumber(key) : undefined;
  }

  optionalBoolean(key: string): boolean | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.type !== GGUFValueType.BOOL) this.fail(key, `is ${this.#describe(entry)}; expected true or false`);
    return entry.value as boolean;
  }

  #array(key: string, elementTypes: ReadonlySet<number>, expected: string): GGUFValue[] {
    const entry = this.#required(key, expected);
    if (entry.type !== GGUFValueType.ARRAY || !elementTypes.has(entry.elementType ?? -1)) {
      this.fail(key, `is ${this.#describe(entry)}; expected ${expected}`);
    }
    return entry.value as GGUFValue[];
  }

  stringArray(key: string): string[] {
    return this.#array(key, new Set([GGUFValueType.STRING]), 'an array of strings') as string[];
  }

  /** An array of f32 (or f64) numbers, e.g. a SentencePiece vocabulary's scores. */
  numberArray(key: string): number[] {
    return this.#array(key, FLOAT_TYPES, 'an array of numbers (f32)') as number[];
  }

  integerArray(key: string): number[] {
    const values = this.#array(key, INTEGER_TYPES, 'an array of integers');
    values.forEach((value, i) => {
      if (typeof value !== 'number') this.fail(key, `element ${i} is ${String(value)}: too large`);
    });
    return values as number[];
  }
}

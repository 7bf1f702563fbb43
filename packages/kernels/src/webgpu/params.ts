import type { UniformField } from './kernel.js';

/** The WGSL type of a uniform field: all are 32 bits wide, so the struct has no padding. */
export type ParamType = UniformField[0];

/** A shader's uniforms: field names as the WGSL spells them, with their types, in struct order. */
export type ParamFields = Readonly<Record<string, ParamType>>;

export interface UniformParams<Fields extends ParamFields> {
  /** The WGSL declaration, `struct Params { name: type, ... }`. */
  readonly struct: string;
  /** A dispatch's uniform values, in the struct's order (booleans become 1 and 0). */
  values(values: { readonly [Name in keyof Fields]: number | boolean }): UniformField[];
}

/**
 * One description of a shader's `Params` struct, from which both the WGSL declaration and the
 * uniform values are written, so the two cannot drift apart.
 */
export function uniformParams<const Fields extends ParamFields>(fields: Fields): UniformParams<Fields> {
  const names = Object.keys(fields) as (keyof Fields & string)[];
  return {
    struct: `struct Params { ${names.map((name) => `${name}: ${fields[name]}`).join(', ')} }`,
    values: (values) => names.map((name) => [fields[name] as ParamType, Number(values[name])]),
  };
}

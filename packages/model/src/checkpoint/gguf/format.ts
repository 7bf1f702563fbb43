/**
 * The GGUF container as llama.cpp defines it (ggml/include/gguf.h, ggml/src/gguf.cpp; gguf-py's
 * constants.py), versions 2 and 3, little-endian:
 *
 *   header : u32 magic "GGUF", u32 version, u64 tensor count, u64 metadata count
 *   kv     : string key, u32 value type, value (string = u64 byte length + UTF-8;
 *            array = u32 element type, u64 count, elements)
 *   tinfo  : string name, u32 n_dims, u64 ne[n_dims] (ne[0] is the contiguous axis: the shape
 *            reversed), u32 ggml type, u64 offset into the data section (a multiple of alignment)
 *   data   : starts at the first multiple of `general.alignment` (default 32) after the infos
 */

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSIONS: readonly number[] = [2, 3];
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** GGML_MAX_DIMS: a ggml tensor has at most 4 axes. */
export const GGUF_MAX_DIMS = 4;

/** Metadata value types (enum gguf_type). */
export const GGUFValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GGUFValueType = (typeof GGUFValueType)[keyof typeof GGUFValueType];

export const GGUF_VALUE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'u8',
  1: 'i8',
  2: 'u16',
  3: 'i16',
  4: 'u32',
  5: 'i32',
  6: 'f32',
  7: 'bool',
  8: 'string',
  9: 'array',
  10: 'u64',
  11: 'i64',
  12: 'f64',
};

/** Bytes of one scalar of each fixed-size value type. */
export const GGUF_SCALAR_BYTES: Readonly<Record<number, number>> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

/** A ggml tensor type: its name as llama.cpp prints it, and its block (elements, bytes). */
export interface GGMLType {
  id: number;
  name: string;
  blockElements: number;
  blockBytes: number;
}

/**
 * The ggml types a GGUF may hold (enum ggml_type), with their block sizes from ggml-common.h /
 * ggml.c's type_traits. Knowing the sizes of types we cannot load lets us name them and check the
 * file's layout anyway.
 */
const GGML_TYPE_LIST: readonly GGMLType[] = [
  { id: 0, name: 'F32', blockElements: 1, blockBytes: 4 },
  { id: 1, name: 'F16', blockElements: 1, blockBytes: 2 },
  { id: 2, name: 'Q4_0', blockElements: 32, blockBytes: 18 },
  { id: 3, name: 'Q4_1', blockElements: 32, blockBytes: 20 },
  { id: 6, name: 'Q5_0', blockElements: 32, blockBytes: 22 },
  { id: 7, name: 'Q5_1', blockElements: 32, blockBytes: 24 },
  { id: 8, name: 'Q8_0', blockElements: 32, blockBytes: 34 },
  { id: 9, name: 'Q8_1', blockElements: 32, blockBytes: 36 },
  { id: 10, name: 'Q2_K', blockElements: 256, blockBytes: 84 },
  { id: 11, name: 'Q3_K', blockElements: 256, blockBytes: 110 },
  { id: 12, name: 'Q4_K', blockElements: 256, blockBytes: 144 },
  { id: 13, name: 'Q5_K', blockElements: 256, blockBytes: 176 },
  { id: 14, name: 'Q6_K', blockElements: 256, blockBytes: 210 },
  { id: 15, name: 'Q8_K', blockElements: 256, blockBytes: 292 },
  { id: 16, name: 'IQ2_XXS', blockElements: 256, blockBytes: 66 },
  { id: 17, name: 'IQ2_XS', blockElements: 256, blockBytes: 74 },
  { id: 18, name: 'IQ3_XXS', blockElements: 256, blockBytes: 98 },
  { id: 19, name: 'IQ1_S', blockElements: 256, blockBytes: 50 },
  { id: 20, name: 'IQ4_NL', blockElements: 32, blockBytes: 18 },
  { id: 21, name: 'IQ3_S', blockElements: 256, blockBytes: 110 },
  { id: 22, name: 'IQ2_S', blockElements: 256, blockBytes: 82 },
  { id: 23, name: 'IQ4_XS', blockElements: 256, blockBytes: 136 },
  { id: 24, name: 'I8', blockElements: 1, blockBytes: 1 },
  { id: 25, name: 'I16', blockElements: 1, blockBytes: 2 },
  { id: 26, name: 'I32', blockElements: 1, blockBytes: 4 },
  { id: 27, name: 'I64', blockElements: 1, blockBytes: 8 },
  { id: 28, name: 'F64', blockElements: 1, blockBytes: 8 },
  { id: 29, name: 'IQ1_M', blockElements: 256, blockBytes: 56 },
  { id: 30, name: 'BF16', blockElements: 1, blockBytes: 2 },
  { id: 34, name: 'TQ1_0', blockElements: 256, blockBytes: 54 },
  { id: 35, name: 'TQ2_0', blockElements: 256, blockBytes: 66 },
  { id: 39, name: 'MXFP4', blockElements: 32, blockBytes: 17 },
];

export const GGML_TYPES: ReadonlyMap<number, GGMLType> = new Map(GGML_TYPE_LIST.map((type) => [type.id, type]));

/** The ids of the types by name, for the writer and tests. */
export const GGMLTypeId = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 8,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  BF16: 30,
} as const;

/** tokenizer.ggml.token_type values (llama_token_type). */
export const GGUFTokenType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

/**
 * Llama 3's 256 special tokens, in id order, as the llama3 repository's tokenizer.py names them.
 * Their ids follow the BPE ranks: id = numBaseTokens + index (128000.. for the real vocabulary).
 */
export const NUM_RESERVED_SPECIAL_TOKENS = 256;

export const BEGIN_OF_TEXT = '<|begin_of_text|>';
export const END_OF_TEXT = '<|end_of_text|>';
export const START_HEADER_ID = '<|start_header_id|>';
export const END_HEADER_ID = '<|end_header_id|>';
export const EOT_ID = '<|eot_id|>';

function buildSpecialTokenNames(): readonly string[] {
  const names = [
    BEGIN_OF_TEXT,
    END_OF_TEXT,
    '<|reserved_special_token_0|>',
    '<|reserved_special_token_1|>',
    '<|reserved_special_token_2|>',
    '<|reserved_special_token_3|>',
    START_HEADER_ID,
    END_HEADER_ID,
    '<|reserved_special_token_4|>',
    EOT_ID,
  ];
  // The reference continues at reserved_special_token_5 and stops at 250: 10 + 246 = 256 names.
  for (let i = 5; i < NUM_RESERVED_SPECIAL_TOKENS - 5; i++) names.push(`<|reserved_special_token_${i}|>`);
  return Object.freeze(names);
}

export const SPECIAL_TOKEN_NAMES: readonly string[] = buildSpecialTokenNames();

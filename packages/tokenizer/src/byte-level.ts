/**
 * GPT-2's byte-level alphabet (`bytes_to_unicode` in openai/gpt-2 and Hugging Face tokenizers):
 * each byte is one printable character, so a BPE vocabulary of byte strings can be stored as text.
 * GGUF (`tokenizer.ggml.model` "gpt2") and Hugging Face's `tokenizer.json` store Llama 3's
 * vocabulary this way; tiktoken's rank file stores the bytes themselves (base64).
 */

const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const chars: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) chars[b] = String.fromCodePoint(printable(b) ? b : next++);
  return chars;
})();

const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((char, byte) => [char, byte]));

/** The byte-level text of some bytes. */
export function byteLevelEncode(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += BYTE_TO_CHAR[byte];
  return text;
}

/** The bytes byte-level text stands for, or undefined when a character is not in the alphabet. */
export function byteLevelDecode(text: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (const char of text) {
    const byte = CHAR_TO_BYTE.get(char);
    if (byte === undefined) return undefined;
    bytes.push(byte);
  }
  return Uint8Array.from(bytes);
}

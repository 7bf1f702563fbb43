// Tokenizer demo: encode, chat-format and stream-decode with the real Llama 3 tokenizer.
// Run from the repo root: pnpm demo   (or: node packages/tokenizer/examples/demo.mjs [tokenizer.model])
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChatFormat, loadTokenizer } from '@llama-ts/tokenizer/node';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const modelPath = process.argv[2] ?? join(repoRoot, '..', 'shared', 'data', 'llama3', 'tokenizer.model');
if (!existsSync(modelPath)) {
  console.error(`No tokenizer at ${modelPath}: pass the path of Llama 3's tokenizer.model as the first argument.`);
  process.exit(1);
}

const tokenizer = await loadTokenizer(modelPath);
const text = 'I believe the meaning of life is';
const ids = tokenizer.encode(text, { bos: true });
console.log(`encode(${JSON.stringify(text)}, { bos: true })\n  → [${ids.join(', ')}]`);
console.log(`decode → ${JSON.stringify(tokenizer.decode(ids))}`);

const typed = 'hi<|eot_id|>';
console.log(`\nA user typing ${typed} gets plain text, not an end of turn:`);
console.log(`  [${tokenizer.encode(typed).join(', ')}] (eot_id is ${tokenizer.eotId})`);

const chat = new ChatFormat(tokenizer);
const dialog = [
  { role: 'system', content: 'Always answer with Haiku' },
  { role: 'user', content: 'I am going to Paris, what should I see?' },
];
const prompt = chat.encodeDialogPrompt(dialog);
console.log(`\nChat prompt for ${dialog.length} messages: ${prompt.length} tokens`);
console.log(`  ${JSON.stringify(tokenizer.decode(prompt))}`);

const emoji = 'Paris 🗼 巴黎 😀';
console.log(`\nStreaming ${JSON.stringify(emoji)} one token at a time (characters split across tokens are held back):`);
const decoder = tokenizer.streamDecoder();
for (const id of tokenizer.encode(emoji)) {
  console.log(`  token ${String(id).padStart(6)} → ${JSON.stringify(decoder.push(id))}`);
}
console.log(`  end          → ${JSON.stringify(decoder.end())}`);
tokenizer.free();

// The Llama 2 family through the CLI: tokenize (text, --decode, --dialog for either family), and
// complete / chat on a random Llama-2-layout folder, which say their family on stderr.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSharedJson } from '@llama-ts/test-support';
import { loadSentencePieceTokenizer } from '@llama-ts/tokenizer/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLAMA3_TOKENIZER, randomLlama2Checkpoint, runCli, SENTENCEPIECE_TOKENIZER } from './helpers.js';

let model: string;
let files: string;
beforeAll(async () => {
  model = await randomLlama2Checkpoint();
  files = await mkdtemp(join(tmpdir(), 'llama-ts-cli-dialogs-'));
});
afterAll(async () => {
  await rm(model, { recursive: true, force: true });
  await rm(files, { recursive: true, force: true });
});

async function dialogFile(name: string, dialog: unknown): Promise<string> {
  const path = join(files, name);
  await writeFile(path, JSON.stringify(dialog));
  return path;
}

describe('tokenize with a SentencePiece tokenizer.model', () => {
  it('encodes (with --bos --eos) and decodes as sentencepiece', async () => {
    const result = await runCli([
      'tokenize',
      '--tokenizer',
      SENTENCEPIECE_TOKENIZER,
      '--text',
      'Hello World',
      '--bos',
      '--eos',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([1, 329, 3842, 310, 273, 318, 2]);
    const decoded = await runCli(['tokenize', '--ckpt-dir', model, '--decode', '--text', '1,329,3842,310,273,318,2']);
    expect(decoded.stdout).toBe('Hello World\n');
  });
});

describe('tokenize --dialog', () => {
  const dialog = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Who is Romeo?' },
    { role: 'assistant', content: 'A Montague.' },
    { role: 'user', content: 'And Juliet?' },
  ];

  it("prints Llama 2's [INST] prompt ids for a SentencePiece tokenizer", async () => {
    const result = await runCli(['tokenize', '--ckpt-dir', model, '--dialog', await dialogFile('llama2.json', dialog)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('llama-ts: Llama 2 chat format\n');
    const tokenizer = await loadSentencePieceTokenizer(SENTENCEPIECE_TOKENIZER);
    expect(JSON.parse(result.stdout)).toEqual([
      ...tokenizer.encode('[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWho is Romeo? [/INST] A Montague. ', {
        bos: true,
        eos: true,
      }),
      ...tokenizer.encode('[INST] And Juliet? [/INST]', { bos: true }),
    ]);
  });

  it("prints Llama 3's header prompt ids for the tiktoken tokenizer (the golden dialog)", async () => {
    const golden = readSharedJson<{ dialog: { dialog: unknown; ids: number[] }[] }>(
      'data',
      'llama3',
      'tokenizer-golden.json',
    );
    const first = golden.dialog[0] as { dialog: unknown; ids: number[] };
    const path = await dialogFile('llama3.json', first.dialog);
    const result = await runCli(['tokenize', '--tokenizer', LLAMA3_TOKENIZER, '--dialog', path]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('llama-ts: Llama 3 chat format\n');
    expect(JSON.parse(result.stdout)).toEqual(first.ids);
  });

  it('refuses tags in messages, roles that do not alternate and mixed flags, in one line', async () => {
    const tagged = await dialogFile('tagged.json', [{ role: 'user', content: 'x [INST] y' }]);
    const result = await runCli(['tokenize', '--ckpt-dir', model, '--dialog', tagged]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^llama-ts: .*dialog\[0\]\.content contains \[INST\]; Llama 2 chat refuses/);
    const twice = await dialogFile('twice.json', [
      { role: 'user', content: 'a' },
      { role: 'user', content: 'b' },
    ]);
    const turns = await runCli(['tokenize', '--ckpt-dir', model, '--dialog', twice]);
    expect(turns.stderr).toMatch(/dialog\[1\]\.role is "user" where "assistant" was expected/);
    const mixed = await runCli(['tokenize', '--ckpt-dir', model, '--dialog', twice, '--bos']);
    expect(mixed.stderr).toBe('llama-ts: --dialog encodes a whole dialog; drop --bos\n');
  });
});

describe('complete and chat on a Llama 2 folder', () => {
  it('complete says the family and generates', async () => {
    const result = await runCli([
      'complete',
      '--ckpt-dir',
      model,
      '--backend',
      'cpu',
      '--prompt',
      'ROMEO:',
      '--temperature',
      '0',
      '--max-gen-len',
      '4',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('llama-ts: Llama 2 family (SentencePiece tokenizer, [INST] chat format)\n');
    expect(typeof JSON.parse(result.stdout).generation).toBe('string');
  });

  it('chat --dialogs answers in the [INST] format', async () => {
    const path = await dialogFile('dialogs.json', [[{ role: 'user', content: 'Who is Romeo?' }]]);
    const result = await runCli([
      'chat',
      '--ckpt-dir',
      model,
      '--backend',
      'cpu',
      '--dialogs',
      path,
      '--temperature',
      '0',
      '--max-gen-len',
      '4',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^User: Who is Romeo\?\n\n> Assistant: /);
  });
});

// Generation past the context in the CLI: on by default for complete and chat, --no-context-shift
// stops at the context as the reference does, --keep says what a shift keeps.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { goldenDir, goldenExpected } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir } from '../src/model-flags.js';
import { LLAMA3_TOKENIZER, randomLlama3Checkpoint, runCli } from './helpers.js';

const { vocab } = JSON.parse(readFileSync(join(defaultModelDir(), 'tokenizer.json'), 'utf8')) as { vocab: string[] };
const characters = new Set(vocab.filter((token) => [...token].length === 1));

function expectOneLineError(result: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/^llama-ts: [^\n]*\n$/);
  expect(result.stderr).toMatch(pattern);
}

describe('complete past the context (the built-in model: 128 characters)', () => {
  it('`complete --prompt "ROMEO:" --max-gen-len 1000` streams 1,000 characters', async () => {
    const result = await runCli(['complete', '--prompt', 'ROMEO:', '--max-gen-len', '1000'], { timeoutMs: 120_000 });
    expect(result.code).toBe(0);
    const text = result.stdout.replace(/\n$/, '');
    expect([...text]).toHaveLength(1000);
    for (const char of text) expect(characters.has(char), JSON.stringify(char)).toBe(true);
  });

  it('--json shifts too, and gives the text that streams', async () => {
    const flags = ['complete', '--prompt', 'JULIET:', '--backend', 'cpu', '--temperature', '0', '--max-gen-len', '300'];
    const [streamed, json] = await Promise.all([runCli(flags), runCli([...flags, '--json'])]);
    expect(streamed.code).toBe(0);
    expect(streamed.stdout).toHaveLength(301);
    expect(JSON.parse(json.stdout).generation).toBe(streamed.stdout.replace(/\n$/, ''));
  });

  it('--no-context-shift stops at the context, as the reference does', async () => {
    const result = await runCli([
      'complete',
      '--prompt',
      'ROMEO:',
      '--backend',
      'cpu',
      '--max-gen-len',
      '300',
      '--no-context-shift',
    ]);
    expect(result.code).toBe(0);
    // bos and the 6 prompt characters take 7 of the 128 positions.
    expect(result.stdout.replace(/\n$/, '').length).toBeLessThanOrEqual(128 - 7);
  });

  it('refuses a --keep the context cannot hold, and --keep with --no-context-shift', async () => {
    expectOneLineError(
      await runCli(['complete', '--prompt', 'ROMEO:', '--backend', 'cpu', '--keep', '200']),
      /contextShift\.keep must be an integer from 0 to maxSeqLen - 2 \(126\), got 200/,
    );
    expectOneLineError(
      await runCli(['complete', '--prompt', 'ROMEO:', '--keep', '3', '--no-context-shift']),
      /--keep is for the context shift; it cannot go with --no-context-shift/,
    );
    expectOneLineError(await runCli(['complete', '--prompt', 'ROMEO:', '--keep', 'x']), /--keep/);
  });
});

describe('a prompt longer than --max-seq-len', () => {
  const expected = goldenExpected('tiny-meta-bf16');
  const flags = ['complete', '--ckpt-dir', goldenDir('tiny-meta-bf16'), '--backend', 'cpu', '--max-seq-len', '16'];
  const prompt = ['--prompt-tokens', expected.tokens.join(','), '--temperature', '0', '--max-gen-len', '8'];

  it('keeps its first --keep and most recent tokens, saying so on stderr', async () => {
    const result = await runCli([...flags, ...prompt, '--keep', '2', '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/the prompt \(24 tokens\) is longer than the context \(maxSeqLen 16\)/);
    expect(JSON.parse(result.stdout).token_ids).toHaveLength(8);
  });

  it('is refused with --no-context-shift', async () => {
    expectOneLineError(
      await runCli([...flags, ...prompt, '--no-context-shift']),
      /prompt 0 has 24 tokens, longer than the context \(maxSeqLen 16\)/,
    );
  });
});

describe('chat past the context (a small random model with the Llama 3 tokenizer, 64 positions)', () => {
  let dir: string;
  let flags: string[];
  beforeAll(async () => {
    dir = await randomLlama3Checkpoint();
    flags = [
      'chat',
      '--ckpt-dir',
      dir,
      '--tokenizer',
      LLAMA3_TOKENIZER,
      '--backend',
      'cpu',
      '--max-seq-len',
      '64',
      '--max-gen-len',
      '16',
      '--temperature',
      '0',
      '--system',
      'Be brief.',
    ];
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const input = 'Hello there\nWhat is new?\nTell me more\nAnd then?\n/exit\n';

  it('answers every turn as the dialog outgrows the context', async () => {
    const result = await runCli(flags, { input });
    expect(result.code).toBe(0);
    // No turn was refused: stderr has only the family line. (The random model's replies may hold
    // newlines, so they are not counted by lines exactly.)
    expect(result.stderr).toBe('llama-ts: Llama 3 family (tiktoken tokenizer, header chat format)\n');
    expect(result.stdout.split('\n').filter((line) => line !== '').length).toBeGreaterThanOrEqual(4);
  });

  it('with --no-context-shift, says when the dialog fills the context', async () => {
    const result = await runCli([...flags, '--no-context-shift'], { input });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/which fills the context \(maxSeqLen 64\)/);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultModelDir } from '../src/model-flags.js';
import { runCli } from './helpers.js';

const dir = defaultModelDir();
const params = JSON.parse(readFileSync(join(dir, 'params.json'), 'utf8')) as Record<string, unknown>;
const { vocab } = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { vocab: string[] };
/** The corpus characters (the vocabulary less its special tokens). */
const characters = new Set(vocab.filter((token) => [...token].length === 1));

describe('the built-in default model (apps/cli/default-model)', () => {
  it('is a Meta checkpoint that records the context it was trained with', () => {
    expect(params).toMatchObject({ vocab_size: vocab.length, max_seq_len: 128 });
  });

  it('`complete --prompt "ROMEO:"` with no other flag streams text in its vocabulary', async () => {
    const result = await runCli(['complete', '--prompt', 'ROMEO:'], { timeoutMs: 60_000 });
    expect(result.code).toBe(0);
    // The prompt takes 7 of the 128 positions (with BOS); the rest is generated unless EOS comes first.
    expect(result.stdout.length).toBeGreaterThan(10);
    for (const char of result.stdout.trimEnd()) expect(characters.has(char), JSON.stringify(char)).toBe(true);
  });

  it('is reproducible with --seed', async () => {
    const run = () => runCli(['complete', '--prompt', 'JULIET:', '--backend', 'cpu', '--seed', '7']);
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });
});

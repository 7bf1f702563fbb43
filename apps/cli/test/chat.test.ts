import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLAMA3_TOKENIZER, randomLlama3Checkpoint, runCli } from './helpers.js';

describe('chat (a small random model with the Llama 3 tokenizer)', () => {
  let dir: string;
  let flags: string[];

  beforeAll(async () => {
    dir = await randomLlama3Checkpoint();
    flags = ['--ckpt-dir', dir, '--tokenizer', LLAMA3_TOKENIZER, '--backend', 'cpu', '--max-seq-len', '256'];
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the REPL answers each line, /reset starts over, /exit quits', async () => {
    const input = 'Hello there\nHello there\n/reset\nHello there\n/exit\nnot read\n';
    const result = await runCli(
      ['chat', ...flags, '--max-gen-len', '5', '--temperature', '0', '--system', 'Be brief.'],
      {
        input,
      },
    );
    expect(result.code).toBe(0);
    const replies = result.stdout.split('\n').filter((line) => line !== '');
    expect(replies).toHaveLength(3);
    // After /reset the same first message gets the same (greedy) reply as at the start.
    expect(replies[2]).toBe(replies[0]);
    expect(result.stderr).toMatch(/conversation reset/);
  });

  it('--dialogs prints each dialog and its reply as the reference example does', async () => {
    const file = join(dir, 'dialogs.json');
    await writeFile(
      file,
      JSON.stringify([
        [{ role: 'user', content: 'what is the recipe of mayonnaise?' }],
        [
          { role: 'system', content: 'Always answer with Haiku' },
          { role: 'user', content: 'I am going to Paris, what should I see?' },
        ],
      ]),
    );
    const result = await runCli(['chat', ...flags, '--max-batch-size', '2', '--max-gen-len', '4', '--dialogs', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^User: what is the recipe of mayonnaise\?\n\n> Assistant: /);
    expect(result.stdout).toMatch(/System: Always answer with Haiku\n\nUser: I am going to Paris/);
    expect(result.stdout.match(/==================================/g)).toHaveLength(2);
  });

  it('a missing dialogs file is one line on stderr', async () => {
    const result = await runCli(['chat', ...flags, '--dialogs', '/nonexistent/dialogs.json']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^llama-ts: dialogs file .* does not exist\n$/);
  });
});

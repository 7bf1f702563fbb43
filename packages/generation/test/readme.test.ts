// The README's example runs as a user would run it, on a small random model with Llama 3's
// vocabulary and tokenizer: its text is noise, but every call in it has to work.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writePthCheckpoint } from '@llama-ts/model';
import {
  llama3TokenizerPath,
  readmeExample,
  runReadmeExample,
  writeRandomLlama3Checkpoint,
} from '@llama-ts/test-support';
import { expect, it } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

// About 30 s on lavapipe (three 64-token chat answers over a 128256-entry vocabulary); the limits
// are generous because on a shared 2-core machine under full load such runs have taken minutes.
it('README: the example runs', { timeout: 300_000 }, async () => {
  const example = readmeExample(packageDir);
  const dir = await writeRandomLlama3Checkpoint(writePthCheckpoint, { tokenizer: llama3TokenizerPath() });
  try {
    const { stdout } = await runReadmeExample(example, { packageDir, args: [dir], timeoutMs: 290_000 });
    // The chat answer's usage (the prompt is the dialog in Llama 3's chat format).
    expect(stdout).toMatch(/\{\s+promptTokens: 19,\s+generatedTokens: \d+,/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

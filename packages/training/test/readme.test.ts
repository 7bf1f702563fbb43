// The README's example runs as a user would run it, on Tiny Shakespeare: a short training run
// that prints its evaluations and where its checkpoint went (in the example's own folder).
import { join } from 'node:path';
import { readmeExample, runReadmeExample, sharedPath } from '@llama-ts/test-support';
import { expect, it } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

// About 25 s of CPU; the limits are generous because on a shared 2-core machine under full load
// it has taken over 3 minutes.
it('README: the example trains, evaluates and saves a checkpoint', { timeout: 300_000 }, async () => {
  const example = readmeExample(packageDir);
  const data = sharedPath('data', 'tiny_shakespeare.txt');
  const { stdout } = await runReadmeExample(example, { packageDir, args: [data], timeoutMs: 290_000 });
  const lines = stdout.trimEnd().split('\n');
  const evaluated = lines.slice(0, -1).map((line) => /^step (\d+): train \d+\.\d{3}, val \d+\.\d{3}$/.exec(line)?.[1]);
  expect(evaluated).toEqual(['0', '50', '100', '150', '200']);
  expect(lines.at(-1)).toMatch(/^val loss \d+\.\d{3} after 200 steps; checkpoint in runs\/quick$/);
});

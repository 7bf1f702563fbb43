// The README's embedding example runs as a user would run it, on the built-in model, and prints
// what the README says.
import { join } from 'node:path';
import { readmeExample, runReadmeExample } from '@llama-ts/test-support';
import { expect, it } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

it('README: the embedding example serves a completion', async () => {
  const example = readmeExample(packageDir);
  const { stdout } = await runReadmeExample(example, { packageDir });
  expect(stdout).toBe(example.prints);
});

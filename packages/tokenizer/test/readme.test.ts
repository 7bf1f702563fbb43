// The README's example runs as a user would run it and prints what the README says.
import { join } from 'node:path';
import { llama3TokenizerPath, readmeExample, runReadmeExample } from '@llama-ts/test-support';
import { expect, it } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

it('README: the example runs and prints what the README says', async () => {
  const example = readmeExample(packageDir);
  const { stdout, stderr } = await runReadmeExample(example, { packageDir, args: [llama3TokenizerPath()] });
  expect(stderr).toBe('');
  expect(stdout).toBe(example.prints);
});

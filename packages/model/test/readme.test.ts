// The README's example runs as a user would run it, on the golden checkpoint, and prints what the
// README says.
import { join } from 'node:path';
import { goldenDir, readmeExample, runReadmeExample } from '@llama-ts/test-support';
import { expect, it } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

it('README: the example runs and prints what the README says', async () => {
  const example = readmeExample(packageDir);
  const { stdout } = await runReadmeExample(example, { packageDir, args: [goldenDir('tiny-meta-bf16')] });
  expect(stdout).toBe(example.prints);
});

// The README's example runs as a user would run it (on WebGPU when there is an adapter, else on
// the CPU) and prints what the README says.
import { join } from 'node:path';
import { readmeExample, runReadmeExample } from '@llama-ts/test-support';
import { expect, it } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

it('README: the example runs and prints what the README says', async () => {
  const example = readmeExample(packageDir);
  const { stdout } = await runReadmeExample(example, { packageDir });
  expect(stdout).toBe(example.prints);
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeExample, readmeExamples, runReadmeExample } from '../src/index.js';

const packageDir = join(import.meta.dirname, '..');
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'llama-ts-readme-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function readme(text: string): Promise<string> {
  const path = join(scratch, `${Math.random().toString(36).slice(2)}.md`);
  await writeFile(path, text);
  return path;
}

describe('readmeExamples', () => {
  it('takes the js and ts blocks, with the output a closing "// Prints" comment gives', async () => {
    const path = await readme(
      [
        '# x',
        '```sh',
        'echo not this',
        '```',
        '```js',
        "console.log('a');",
        '// Prints (a note):',
        '// a',
        '//',
        '```',
        '```ts',
        'const n: number = 1;',
        '```',
      ].join('\n'),
    );
    expect(readmeExamples(path)).toEqual([
      { where: 'README.md:5', lang: 'js', code: "console.log('a');\n// Prints (a note):\n// a\n//\n", prints: 'a\n\n' },
      { where: 'README.md:11', lang: 'ts', code: 'const n: number = 1;\n' },
    ]);
  });

  it('refuses code after "// Prints" and a block that never closes', async () => {
    expect(() => readmeExamples(join(scratch, 'missing.md'))).toThrow(/missing\.md/);
    const after = await readme('```js\n// Prints:\n// a\nconsole.log(1);\n```\n');
    expect(() => readmeExamples(after)).toThrow(/:2: only comment lines may follow "\/\/ Prints"/);
    const open = await readme('text\n```ts\nconst a = 1;\n');
    expect(() => readmeExamples(open)).toThrow(/:2: the code block never closes/);
  });
});

describe("this package's README", () => {
  it('the example runs and prints what the README says', async () => {
    const example = readmeExample(packageDir);
    // Without WebGPU required, so that the example's acquire reports a reason on any machine.
    const { stdout } = await runReadmeExample(example, { packageDir, env: { LLAMA_TS_REQUIRE_WEBGPU: undefined } });
    expect(stdout).toBe(example.prints);
  });

  it('a failing example rejects with its stderr', async () => {
    const example = { where: 'README.md:1', lang: 'js' as const, code: "throw new Error('boom');\n" };
    await expect(runReadmeExample(example, { packageDir })).rejects.toThrow(/README\.md:1 exited with 1;[\s\S]*boom/);
  });
});

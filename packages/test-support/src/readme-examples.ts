import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runProcess } from './run-process.js';
import { sharedDir } from './shared.js';

/**
 * The examples in the package READMEs run in the test suite, so they cannot rot: every ```js or
 * ```ts block of a README is one example program. An example may end with the output it prints:
 *
 *     console.log(ids.join(' '));
 *     // Prints:
 *     // 128000 2028 374 264 1296 11914 13 128001
 *
 * which its test then compares with what it printed.
 */
export interface ReadmeExample {
  /** `README.md:12`, for test names and failure messages. */
  where: string;
  lang: 'js' | 'ts';
  code: string;
  /** The output a closing `// Prints:` comment gives (one line per comment line), if it has one. */
  prints?: string;
}

const FENCE = /^```(js|javascript|ts|typescript)\s*$/;
/** `// Prints:`, or with a note: `// Prints (for the golden checkpoint):`. */
const PRINTS = /^\/\/ Prints( \(.*\))?:$/;

export function readmeExamples(readmePath: string): ReadmeExample[] {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const examples: ReadmeExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !(lines[end] ?? '').startsWith('```')) end++;
    if (end === lines.length) throw new Error(`${readmePath}:${i + 1}: the code block never closes`);
    const body = lines.slice(start, end);
    const lang = open[1] === 'ts' || open[1] === 'typescript' ? 'ts' : 'js';
    const example: ReadmeExample = { where: `README.md:${i + 1}`, lang, code: `${body.join('\n')}\n` };
    const printsAt = body.findIndex((line) => PRINTS.test(line));
    if (printsAt >= 0) {
      const printed = body.slice(printsAt + 1);
      if (!printed.every((line) => line.startsWith('//'))) {
        throw new Error(`${readmePath}:${start + printsAt + 1}: only comment lines may follow "// Prints"`);
      }
      example.prints = printed.map((line) => `${line.replace(/^\/\/ ?/, '')}\n`).join('');
    }
    examples.push(example);
    i = end;
  }
  return examples;
}

/** The one example of `packageDir`/README.md; throws when it has none or several (so that a new one gets a test). */
export function readmeExample(packageDir: string): ReadmeExample {
  const readme = join(packageDir, 'README.md');
  const examples = readmeExamples(readme);
  if (examples.length !== 1) {
    throw new Error(
      `${readme} has ${examples.length} js/ts examples (${examples.map((e) => e.where).join(', ')}); its test expects one`,
    );
  }
  return examples[0] as ReadmeExample;
}

export interface ExampleRun {
  stdout: string;
  stderr: string;
}

/**
 * Runs one example as a user who installed the package would: from a fresh temporary folder (its
 * working directory, removed afterwards) whose node_modules holds the package and the workspace
 * packages it depends on, importing them by name. Node resolves them to their src/ (`source`
 * condition) and tsx compiles that, so no build is needed and none can be stale. The shared
 * reference folder is passed on in LLAMA_TS_SHARED_DIR. Rejects, with its stderr, when the example
 * exits with an error or runs over `timeoutMs` (default 50 s: less than the packages' test
 * timeouts, so that the example is stopped rather than left running when its test times out).
 */
export async function runReadmeExample(
  example: ReadmeExample,
  options: { packageDir: string; args?: string[]; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<ExampleRun> {
  const dir = await mkdtemp(join(tmpdir(), 'llama-ts-readme-'));
  try {
    await linkWorkspacePackages(options.packageDir, join(dir, 'node_modules', '@llama-ts'));
    const file = join(dir, example.lang === 'ts' ? 'example.mts' : 'example.mjs');
    await writeFile(file, example.code);
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const what = `the example at ${example.where}`;
    const { code, stdout, stderr } = await runProcess(
      process.execPath,
      ['--conditions=source', '--import', tsx, file, ...(options.args ?? [])],
      {
        what,
        cwd: dir,
        env: withoutUnset({ ...process.env, LLAMA_TS_SHARED_DIR: sharedDir(), ...options.env }),
        timeoutMs: options.timeoutMs ?? 50_000,
      },
    );
    if (code !== 0) throw new Error(`${what} exited with ${code}; stderr:\n${stderr}`);
    return { stdout, stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The environment less the variables set to undefined (spawn would pass them as "undefined"). */
function withoutUnset(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}

/** Links the package at `packageDir` and every @llama-ts package it depends on into `into`. */
async function linkWorkspacePackages(packageDir: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  const { name } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name: string };
  const links = new Map<string, string>([[name.replace('@llama-ts/', ''), await realpath(packageDir)]]);
  const scope = join(packageDir, 'node_modules', '@llama-ts');
  for (const entry of await readdir(scope).catch(() => [])) links.set(entry, await realpath(join(scope, entry)));
  for (const [entry, target] of links) await symlink(target, join(into, entry), 'dir');
}

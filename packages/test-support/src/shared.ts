import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The reference material (tokenizer, golden checkpoints, corpus, spec) lives in `shared/`, a
 * read-only folder beside the repository root. It is never copied into the repo, so every test and
 * benchmark finds it through this one resolver.
 */

const SHARED_DIR_ENV = 'LLAMA_TS_SHARED_DIR';

function findRepoRoot(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

let cachedSharedDir: string | undefined;

/** Absolute path of the shared folder; throws with instructions when it is missing. */
export function sharedDir(): string {
  if (cachedSharedDir) return cachedSharedDir;
  const fromEnv = process.env[SHARED_DIR_ENV];
  let candidate: string;
  if (fromEnv) {
    candidate = resolve(fromEnv);
  } else {
    const root = findRepoRoot(process.cwd());
    if (!root) {
      throw new Error(
        `Cannot find the llama-ts repository root (a folder with pnpm-workspace.yaml) above ${process.cwd()}; ` +
          `run the tests from inside the repository or set ${SHARED_DIR_ENV}.`,
      );
    }
    candidate = resolve(root, '..', 'shared');
  }
  if (!existsSync(candidate)) {
    throw new Error(
      `The shared reference material is missing: expected a folder at ${candidate}. ` +
        `llama-ts tests read the tokenizer, golden checkpoints and corpus from ../shared beside the ` +
        `repository root (clone the repo next to it), or from the folder named by ${SHARED_DIR_ENV}.`,
    );
  }
  cachedSharedDir = candidate;
  return candidate;
}

/** Absolute path of a file inside the shared folder; throws naming the file when it is missing. */
export function sharedPath(...segments: string[]): string {
  const path = join(sharedDir(), ...segments);
  if (!existsSync(path)) {
    throw new Error(`The shared reference file ${segments.join('/')} is missing (looked for ${path}).`);
  }
  return path;
}

export function readSharedText(...segments: string[]): string {
  return readFileSync(sharedPath(...segments), 'utf8');
}

export function readSharedJson<T = unknown>(...segments: string[]): T {
  return JSON.parse(readSharedText(...segments)) as T;
}

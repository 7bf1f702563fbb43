import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** vitest globalSetup: runs scripts/build-wasm.mjs (a no-op when the kernels are unchanged). */
export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build-wasm.mjs')], { stdio: 'inherit' });
}

import { defineConfig } from 'vitest/config';

/**
 * Settings every package's vitest.config.ts merges in.
 *
 * Workspace packages export their TypeScript sources under the `source` condition (and their
 * built dist/ under the usual ones, which is all that npm users ever see: publishConfig.exports
 * drops `source`). Resolving `source` first makes a test of @llama-ts/generation run the current
 * src/ of @llama-ts/model, not whatever dist/ the last build left behind. The rest of each list is
 * vitest's own default, which setting the option would otherwise replace.
 */
export const SOURCE_CONDITIONS = ['source', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions: SOURCE_CONDITIONS },
  // Tests run in vitest's server-side environment; vitest also passes these to its worker
  // processes as --conditions, so modules it leaves to Node resolve the same way.
  ssr: { resolve: { conditions: SOURCE_CONDITIONS } },
  test: {
    // Setup hooks write and load checkpoints (the random Llama 3 one is 33 MB of normal samples);
    // with every package's tests, typecheck and builds sharing 2 cores, vitest's default 10 s is
    // too short for them.
    hookTimeout: 60_000,
  },
});

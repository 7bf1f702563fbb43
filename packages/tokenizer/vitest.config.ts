import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      // Encoding all of Tiny Shakespeare and the 1 MB no-space string takes 40-50 s alone on a 2-core
      // machine, and several times that while the other packages' suites share the cores (a time
      // limit for a hang, not a speed check: the tokenizer bench measures speed).
      testTimeout: 600_000,
    },
  }),
);

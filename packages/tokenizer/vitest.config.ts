import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      // Encoding all of Tiny Shakespeare and the 1 MB no-space string takes seconds on a 2-core machine.
      testTimeout: 120_000,
    },
  }),
);

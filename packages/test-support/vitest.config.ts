import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      // The random checkpoint draws 16M normal samples: seconds on a busy 2-core machine.
      testTimeout: 60_000,
    },
  }),
);

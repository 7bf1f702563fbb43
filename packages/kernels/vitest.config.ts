import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      // lavapipe compiles shaders on the CPU; the first pipeline of a run can take seconds.
      testTimeout: 60_000,
    },
  }),
);

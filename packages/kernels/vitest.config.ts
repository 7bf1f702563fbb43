import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // lavapipe compiles shaders on the CPU; the first pipeline of a run can take seconds.
    testTimeout: 60_000,
  },
});

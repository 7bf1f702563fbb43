import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Encoding all of Tiny Shakespeare and the 1 MB no-space string takes seconds on a 2-core machine.
    testTimeout: 120_000,
  },
});

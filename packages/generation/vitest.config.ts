import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // beforeAll hooks build and load models as the tests do (the GGUF tests a 128,256-token
    // vocabulary): the same limit, not vitest's default 10 s, which a loaded 2-core machine exceeds.
    hookTimeout: 60_000,
  },
});

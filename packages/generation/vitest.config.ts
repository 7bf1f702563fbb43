import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // beforeAll writes and loads random checkpoints (one with Llama 3's 128256-row vocabulary):
    // seconds each on a loaded 2-core machine, past vitest's default 10 s.
    hookTimeout: 60_000,
  },
});

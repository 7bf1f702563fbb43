import { defineConfig } from 'tsup';

export default defineConfig({
  // cli is the `llama-ts` bin (esbuild keeps its `#!/usr/bin/env node` line and tsup marks it
  // executable); index exports startServer and the model-flag helpers for tests and embedders.
  entry: ['src/cli.ts', 'src/index.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
});

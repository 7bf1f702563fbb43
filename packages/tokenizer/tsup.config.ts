import { defineConfig } from 'tsup';

export default defineConfig({
  // index is the browser-safe core; node adds file-system helpers.
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});

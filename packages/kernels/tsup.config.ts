import { defineConfig } from 'tsup';

export default defineConfig({
  // index is the browser entry (navigator.gpu); node adds Dawn from the `webgpu` package.
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // Dawn is an optional dependency, imported at run time only when WebGPU is asked for in Node.
  external: ['webgpu'],
});

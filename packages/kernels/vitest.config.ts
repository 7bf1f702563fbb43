import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      // Compiles the AssemblyScript kernels when they changed (or were never built), so that the
      // tests always run the current wasm module, even without `pnpm build` first.
      globalSetup: ['test/build-wasm.global-setup.ts'],
      // lavapipe compiles shaders on the CPU; the first pipeline of a run can take seconds.
      testTimeout: 60_000,
      // Node 20 has relaxed SIMD behind a flag (Node 22 on by default): turn it on so that the
      // wasm backends run the relaxed-SIMD kernels here too; 'wasm-plain' runs the plain ones.
      execArgv: process.versions.node.startsWith('20.') ? ['--experimental-wasm-relaxed-simd'] : [],
    },
  }),
);

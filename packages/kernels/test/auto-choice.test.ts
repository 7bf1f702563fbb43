// How 'auto' chooses, with stubbed adapters and backends: WebGPU only on a hardware adapter; a
// software adapter (isFallbackAdapter, llvmpipe/lavapipe, SwiftShader) or none gives the wasm
// backend, and the one message says why. (The once-per-process flag is per module instance: this
// file checks the message on its first 'auto' only.)
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend.js';
import { type BackendMakers, createBackendWith, softwareAdapterReason } from '../src/create-backend.js';

function adapter(info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }): GPUAdapter {
  return { info } as unknown as GPUAdapter;
}

const LAVAPIPE = adapter({
  vendor: 'mesa',
  architecture: 'software',
  device: 'llvmpipe-llvm-15-0-6-256-bits-',
  description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)',
  isFallbackAdapter: true,
});
const SWIFTSHADER = adapter({
  vendor: 'google',
  architecture: '',
  device: '',
  description: 'SwiftShader Device (Subzero)',
});
const FALLBACK = adapter({ vendor: 'acme', isFallbackAdapter: true });
const NVIDIA = adapter({
  vendor: 'nvidia',
  architecture: 'hopper',
  device: 'H100',
  description: 'NVIDIA H100 80GB HBM3',
});

function stubs(found: GPUAdapter | undefined): BackendMakers & { made: string[] } {
  const made: string[] = [];
  const fake = (kind: 'webgpu' | 'wasm', description: string) => {
    made.push(kind);
    return { kind, description, destroy() {} } as unknown as Backend;
  };
  return {
    made,
    adapter: async () => found,
    webgpu: async () => fake('webgpu', 'WebGPU adapter: nvidia hopper H100'),
    wasm: async () => fake('wasm', 'WebAssembly SIMD backend, 2 threads'),
  };
}

describe("'auto'", () => {
  it('on a software adapter picks wasm and says why, once', async () => {
    const messages: string[] = [];
    const makers = stubs(LAVAPIPE);
    const backend = await createBackendWith(makers, { log: (m) => messages.push(m) });
    expect(backend.kind).toBe('wasm');
    expect(makers.made).toEqual(['wasm']); // no WebGPU device was opened on lavapipe
    expect(messages).toEqual([
      'llama-ts: the WebGPU adapter is a software renderer (mesa software llvmpipe-llvm-15-0-6-256-bits- ' +
        'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)); using the WebAssembly SIMD backend, 2 threads',
    ]);
    await createBackendWith(stubs(LAVAPIPE), { log: (m) => messages.push(m) });
    expect(messages).toHaveLength(1);
  });

  it.each([
    ['SwiftShader', SWIFTSHADER],
    ['a fallback adapter', FALLBACK],
  ])('on %s picks wasm', async (_name, found) => {
    const makers = stubs(found);
    expect((await createBackendWith(makers, { log: null })).kind).toBe('wasm');
    expect(makers.made).toEqual(['wasm']);
  });

  it('without an adapter picks wasm', async () => {
    const makers = stubs(undefined);
    expect((await createBackendWith(makers, { log: null })).kind).toBe('wasm');
  });

  it('on a hardware adapter picks webgpu', async () => {
    const makers = stubs(NVIDIA);
    expect((await createBackendWith(makers, { log: null })).kind).toBe('webgpu');
    expect(makers.made).toEqual(['webgpu']);
  });

  it('falls back to wasm when WebGPU fails to start on a hardware adapter', async () => {
    const makers = stubs(NVIDIA);
    makers.webgpu = async () => {
      throw new Error('device lost');
    };
    expect((await createBackendWith(makers, { log: null })).kind).toBe('wasm');
  });
});

describe("'webgpu' and 'wasm'", () => {
  it("'webgpu' uses even a software adapter when asked for explicitly", async () => {
    const makers = stubs(LAVAPIPE);
    expect((await createBackendWith(makers, { kind: 'webgpu', log: null })).kind).toBe('webgpu');
  });

  it("'wasm' never looks for an adapter", async () => {
    const makers = stubs(NVIDIA);
    makers.adapter = async () => {
      throw new Error('must not be called');
    };
    expect((await createBackendWith(makers, { kind: 'wasm', log: null })).kind).toBe('wasm');
  });
});

describe('softwareAdapterReason', () => {
  it('names software renderers and passes real GPUs', () => {
    expect(softwareAdapterReason(LAVAPIPE)).toMatch(/software renderer \(mesa software llvmpipe/);
    expect(softwareAdapterReason(SWIFTSHADER)).toMatch(/SwiftShader/);
    expect(softwareAdapterReason(FALLBACK)).toMatch(/software renderer/);
    expect(softwareAdapterReason(NVIDIA)).toBeUndefined();
  });
});

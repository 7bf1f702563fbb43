import { afterEach, describe, expect, it, vi } from 'vitest';

// Each case imports a fresh module: the shared folder is resolved once and cached.
async function freshModule() {
  vi.resetModules();
  return import('../src/shared.js');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('shared reference material', () => {
  it('finds ../shared beside the repository root', async () => {
    vi.stubEnv('LLAMA_TS_SHARED_DIR', '');
    const { sharedPath, readSharedText } = await freshModule();
    expect(sharedPath('spec', 'llama3-reference.md')).toMatch(/shared[/\\]spec[/\\]llama3-reference\.md$/);
    expect(readSharedText('spec', 'llama3-reference.md')).toContain('Llama 3 reference behaviour');
  });

  it('says where it looked when the folder is missing', async () => {
    vi.stubEnv('LLAMA_TS_SHARED_DIR', '/nonexistent/llama-ts-shared');
    const { sharedDir } = await freshModule();
    expect(() => sharedDir()).toThrow(
      /The shared reference material is missing: expected a folder at \/nonexistent\/llama-ts-shared/,
    );
  });

  it('names a missing file', async () => {
    const { sharedPath } = await freshModule();
    expect(() => sharedPath('data', 'no-such-file.bin')).toThrow(
      /The shared reference file data\/no-such-file\.bin is missing/,
    );
  });
});

describe('WebGPU test policy', () => {
  it('skips with a reason when no adapter is found and WebGPU is not required', async () => {
    vi.stubEnv('LLAMA_TS_REQUIRE_WEBGPU', '');
    const { acquireWebGPUForTests } = await import('../src/webgpu-policy.js');
    const result = await acquireWebGPUForTests(async () => undefined);
    expect(result).toEqual({
      available: false,
      reason: expect.stringMatching(/^Skipping WebGPU tests: no WebGPU adapter/),
    });
  });

  it('fails when WebGPU is required', async () => {
    vi.stubEnv('LLAMA_TS_REQUIRE_WEBGPU', '1');
    const { acquireWebGPUForTests } = await import('../src/webgpu-policy.js');
    await expect(
      acquireWebGPUForTests(async () => {
        throw new Error('driver exploded');
      }),
    ).rejects.toThrow('LLAMA_TS_REQUIRE_WEBGPU=1 but acquiring WebGPU failed: driver exploded');
  });

  it('returns the value when there is one', async () => {
    const { acquireWebGPUForTests } = await import('../src/webgpu-policy.js');
    expect(await acquireWebGPUForTests(async () => 42)).toEqual({ available: true, value: 42 });
  });
});

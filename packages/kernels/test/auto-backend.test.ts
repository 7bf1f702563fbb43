// createBackend({ kind: 'auto' }) says once per process which backend it picked. The flag is
// module-global, so this file must stay the only one in its worker that creates an 'auto' backend.
import { webgpuRequired } from '@llama-ts/test-support';
import { expect, it } from 'vitest';
import { createBackend } from '../src/node.js';

// Runs first: if 'cpu', 'wasm' or 'webgpu' logged or set the once-flag, the next test would see it.
it("'cpu', 'wasm' and 'webgpu' never log", async () => {
  const messages: string[] = [];
  const cpu = await createBackend({ kind: 'cpu', log: (m) => messages.push(m) });
  cpu.destroy();
  const wasm = await createBackend({ kind: 'wasm', threads: 2, log: (m) => messages.push(m) });
  wasm.destroy();
  try {
    const gpu = await createBackend({ kind: 'webgpu', log: (m) => messages.push(m) });
    gpu.destroy();
  } catch {
    // No adapter: 'webgpu' throws, and still must not log.
  }
  expect(messages).toEqual([]);
});

it("'auto' logs its choice exactly once, with a llama-ts: prefix", async () => {
  const first: string[] = [];
  const second: string[] = [];
  const a = await createBackend({ kind: 'auto', log: (m) => first.push(m) });
  const b = await createBackend({ kind: 'auto', log: (m) => second.push(m) });
  const c = await createBackend({ kind: 'auto', log: (m) => first.push(m) });
  try {
    expect(first).toHaveLength(1);
    expect(second).toHaveLength(0);
    expect(first[0]).toMatch(/^llama-ts: /);
    if (a.kind === 'webgpu') expect(first[0]).toContain(a.description);
    else {
      expect(a.kind).toBe('wasm');
      expect(first[0]).toContain(a.description);
    }
    // The same machine gives the same choice every time.
    expect(b.kind).toBe(a.kind);
    expect(c.kind).toBe(a.kind);
    // Where WebGPU is required (CI on lavapipe), 'auto' must have found it: a hardware adapter is
    // used, and a software one (lavapipe) is named as the reason for the wasm backend.
    if (webgpuRequired() && a.kind !== 'webgpu') expect(first[0]).toMatch(/software renderer/);
  } finally {
    for (const backend of [a, b, c]) backend.destroy();
  }
});

// The wasm backend in a real browser: headless Chromium (Debian's, driven by playwright-core) runs
// test/browser/page.ts, bundled by esbuild from the package's browser entry with no configuration
// beyond the entry point. Cross-origin isolated, the backend runs on Web Workers and matches the
// cpu backend of the same page; without isolation it runs on one thread and says so once.
// Without Chromium these tests skip with a message, unless LLAMA_TS_REQUIRE_WEBGPU=1 (CI): then
// they fail.
import { REQUIRE_WEBGPU_ENV, webgpuRequired } from '@llama-ts/test-support';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import type { WeightDType } from '../src/node.js';
import { MATVEC_MAX_ROWS } from '../src/wasm/kernels/sizes.js';
import {
  bundlePage,
  bundlePageWithVite,
  CHROMIUM_ENV,
  chromiumAvailable,
  chromiumPath,
  launchChromium,
  type OpenPage,
  openPage,
  type PageBundle,
  type PageServer,
  servePage,
} from './browser/chromium.js';
import { f32ToText, textToF32 } from './browser/f32-text.js';
import type { AttentionRequest } from './browser/page.js';
import { expectClose, rngFor, uniform } from './harness.js';
import { quantizeActivationsQ8Ref } from './reference.js';
import { TOLERANCE } from './tolerances.js';

const SINGLE_THREAD_MESSAGE =
  'llama-ts: SharedArrayBuffer is unavailable (a page must be cross-origin isolated for it); the wasm backend runs on one thread';

let skipReason: string | undefined;
let bundle: PageBundle;
let server: PageServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!chromiumAvailable()) {
    const reason = `no Chromium at ${chromiumPath()} (scripts/setup installs Debian's chromium; ${CHROMIUM_ENV} names another)`;
    if (webgpuRequired()) throw new Error(`${REQUIRE_WEBGPU_ENV}=1 but ${reason}`);
    skipReason = `Skipping the browser tests: ${reason} (set ${REQUIRE_WEBGPU_ENV}=1 to make this an error).`;
    return;
  }
  bundle = await bundlePage();
  server = await servePage(bundle.code);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh page (isolated or not), or the test skips, saying why. */
async function page(context: TestContext, isolated: boolean): Promise<OpenPage> {
  if (skipReason !== undefined || !browser || !server) context.skip(skipReason);
  return openPage(browser as Browser, (server as PageServer).url(isolated));
}

it('the page bundles from the browser entry (dist/index.js), with nothing from Node', (context) => {
  if (skipReason !== undefined) context.skip(skipReason);
  expect(bundle.warnings).toEqual([]);
  const fromPackage = bundle.inputs.filter((file) => !file.startsWith('test/'));
  expect(fromPackage).toContain('dist/index.js');
  expect(fromPackage.every((file) => file.startsWith('dist/'))).toBe(true);
});

describe('cross-origin isolated (COOP same-origin, COEP require-corp)', () => {
  let opened: OpenPage;

  beforeAll(async () => {
    if (browser && server) opened = await openPage(browser, server.url(true));
  });

  it('has SharedArrayBuffer, and the backend runs on Web Workers (2 threads, and the default)', async (context) => {
    if (skipReason !== undefined) context.skip(skipReason);
    const info = await opened.call('info');
    expect(info).toMatchObject({ crossOriginIsolated: true, sharedArrayBuffer: true });
    const byDefault = await opened.call('createWasm');
    expect(byDefault.threads).toBe(Math.max(1, info.hardwareConcurrency));
    const two = await opened.call('createWasm', 2);
    expect(two.threads).toBe(2);
    expect(two.description).toMatch(/^WebAssembly (relaxed )?SIMD backend, 2 threads /);
    expect(opened.console).toEqual([]);
  });

  it("createBackend() ('auto') without a WebGPU adapter picks the wasm backend on Web Workers, saying so", async (context) => {
    const fresh = await page(context, true);
    const picked = await fresh.call('createAuto');
    expect(picked.kind).toBe('wasm');
    const { hardwareConcurrency } = await fresh.call('info');
    expect(picked.description).toContain(`${hardwareConcurrency} thread`);
    expect(fresh.console.filter((line) => line.includes('llama-ts'))).toEqual([
      `warning: llama-ts: no WebGPU adapter was found; using the ${picked.description}`,
    ]);
  });

  const matmuls: { M: number; N: number; K: number; dtype: WeightDType }[] = [
    { M: 1, N: 100, K: 1003, dtype: 'f32' },
    { M: 17, N: 1003, K: 100, dtype: 'f32' },
    { M: 1, N: 100, K: 1024, dtype: 'q8_0' },
    { M: 5, N: 17, K: 160, dtype: 'q8_0' },
    { M: 1, N: 37, K: 512, dtype: 'q4_k' },
    { M: 17, N: 101, K: 256, dtype: 'q4_k' },
  ];
  for (const c of matmuls) {
    const label = `M=${c.M} N=${c.N} K=${c.K} ${c.dtype}`;
    it(`matmul ${label} on 2 threads matches the page's cpu backend`, async (context) => {
      if (skipReason !== undefined) context.skip(skipReason);
      await opened.call('createWasm', 2);
      const rng = rngFor(`browser matmul ${label}`);
      const x = uniform(rng, c.M * c.K);
      const w = uniform(rng, c.N * c.K);
      // The wasm backend's decode with block weights (q8_0, the 4-6-bit formats) quantizes x per
      // block of 32 first (as test/cases/linear.ts says): the cpu backend is given that x, so that
      // the two differ by the kernels' own rounding only.
      const quantized = c.dtype !== 'f32' && c.dtype !== 'f16' && c.M <= MATVEC_MAX_ROWS;
      const xForCpu = f32ToText(quantized ? quantizeActivationsQ8Ref(x, c.M, c.K) : x);
      const { wasm, cpu } = await opened.call('matmul', { ...c, x: f32ToText(x), w: f32ToText(w), xForCpu });
      const what = { op: 'matmul y', backend: 'wasm-2 in Chromium vs cpu', label, shape: [c.M, c.N] };
      expectClose(textToF32(wasm), textToF32(cpu), TOLERANCE.matmul(c.K), what);
    });
  }

  const attentions: Omit<AttentionRequest, 'q' | 'k' | 'v'>[] = [
    { batch: 1, tokens: 1, heads: 8, kvHeads: 2, headDim: 32, slots: 1, maxSeqLen: 600, startPos: 530, slot: 0 },
    { batch: 2, tokens: 5, heads: 8, kvHeads: 4, headDim: 32, slots: 3, maxSeqLen: 64, startPos: 37, slot: 1 },
    { batch: 1, tokens: 3, heads: 3, kvHeads: 1, headDim: 17, slots: 2, maxSeqLen: 7, startPos: 4, slot: 1 },
  ];
  for (const c of attentions) {
    const label = `B=${c.batch} T=${c.tokens} H=${c.heads}/${c.kvHeads} Dh=${c.headDim} at ${c.startPos}`;
    it(`attention ${label} on 2 threads matches the page's cpu backend`, async (context) => {
      if (skipReason !== undefined) context.skip(skipReason);
      await opened.call('createWasm', 2);
      const rng = rngFor(`browser attention ${label}`);
      const cache = c.slots * c.maxSeqLen * c.kvHeads * c.headDim;
      const q = uniform(rng, c.batch * c.tokens * c.heads * c.headDim);
      const [k, v] = [uniform(rng, cache), uniform(rng, cache)];
      const request = { ...c, q: f32ToText(q), k: f32ToText(k), v: f32ToText(v) };
      const { wasm, cpu } = await opened.call('attention', request);
      const shape = [c.batch, c.tokens, c.heads, c.headDim];
      const what = { op: 'attention y', backend: 'wasm-2 in Chromium vs cpu', label, shape };
      expectClose(textToF32(wasm), textToF32(cpu), TOLERANCE.attention, what);
    });
  }

  it('a kernel that traps on any thread is a KernelError naming it', async (context) => {
    if (skipReason !== undefined) context.skip(skipReason);
    await opened.call('createWasm', 2);
    expect(await opened.call('trapOnEachThread')).toEqual([
      expect.stringMatching(/^wasm backend: kernel testTrap failed on thread 0: .*unreachable/),
      expect.stringMatching(/^wasm backend: kernel testTrap failed on thread 1: .*unreachable/),
    ]);
  });

  it('a worker that dies makes the next op throw, not hang', async (context) => {
    if (skipReason !== undefined) context.skip(skipReason);
    await opened.call('createWasm', 2);
    expect(await opened.call('killWorkerThenRun')).toBe(
      'wasm backend: worker 1 of 1 was terminated; this backend cannot run ops any more (destroy it and create a new one)',
    );
  });

  it('a worker that fails to start is an error from createBackend, not a hang', async (context) => {
    if (skipReason !== undefined) context.skip(skipReason);
    expect(await opened.call('createWithFailingWorker', 2)).toMatch(
      /^wasm backend: worker 1 failed: .*this worker fails on purpose while starting$/,
    );
  });
});

describe('the same page built by Vite (vite build, no config file)', () => {
  let vite: PageBundle;
  let viteServer: PageServer | undefined;

  beforeAll(async () => {
    if (skipReason !== undefined) return;
    vite = await bundlePageWithVite();
    viteServer = await servePage(vite.code);
  });

  afterAll(async () => {
    await viteServer?.close();
  });

  it('takes the browser entry with no warning, and runs on 2 Web Workers like the cpu backend', async (context) => {
    if (skipReason !== undefined || !browser || !viteServer) context.skip(skipReason);
    expect(vite.warnings).toEqual([]);
    // dist/index.js only re-exports (and the package has no side effects), so Vite keeps no trace
    // of it; what it took from the package is dist/'s chunk. '\0' marks Vite's own virtual modules.
    const fromPackage = vite.inputs.filter((file) => !file.startsWith('test/') && !file.startsWith('\0'));
    expect(fromPackage).toEqual([expect.stringMatching(/^dist\/chunk-[\w-]+\.js$/)]);
    const opened = await openPage(browser as Browser, (viteServer as PageServer).url(true));
    expect((await opened.call('createWasm', 2)).threads).toBe(2);
    const rng = rngFor('browser matmul vite');
    const [M, N, K] = [1, 40, 256];
    const x = uniform(rng, M * K);
    const w = f32ToText(uniform(rng, N * K));
    const xForCpu = f32ToText(quantizeActivationsQ8Ref(x, M, K));
    const { wasm, cpu } = await opened.call('matmul', { M, N, K, dtype: 'q8_0', x: f32ToText(x), w, xForCpu });
    const what = {
      op: 'matmul y',
      backend: 'wasm-2 in Chromium (Vite) vs cpu',
      label: 'M=1 N=40 K=256 q8_0',
      shape: [M, N],
    };
    expectClose(textToF32(wasm), textToF32(cpu), TOLERANCE.matmul(K), what);
    expect(opened.console).toEqual([]);
  });
});

describe('not cross-origin isolated (no COOP/COEP headers)', () => {
  it('runs on one thread, says so once, and matches the cpu backend', async (context) => {
    const opened = await page(context, false);
    expect(await opened.call('info')).toMatchObject({ crossOriginIsolated: false, sharedArrayBuffer: false });
    expect((await opened.call('createWasm')).threads).toBe(1);
    const asked = await opened.call('createWasm', 2);
    expect(asked.threads).toBe(1);
    expect(asked.description).toMatch(/^WebAssembly (relaxed )?SIMD backend, 1 thread /);
    const rng = rngFor('browser matmul unisolated');
    const [M, N, K] = [3, 50, 96];
    const x = f32ToText(uniform(rng, M * K));
    const w = f32ToText(uniform(rng, N * K));
    const { wasm, cpu } = await opened.call('matmul', { M, N, K, dtype: 'f32', x, w, xForCpu: x });
    const what = { op: 'matmul y', backend: 'wasm-1 in Chromium vs cpu', label: 'M=3 N=50 K=96 f32', shape: [M, N] };
    expectClose(textToF32(wasm), textToF32(cpu), TOLERANCE.matmul(K), what);
    expect(opened.console).toEqual([`warning: ${SINGLE_THREAD_MESSAGE}`]);
  });
});

/**
 * The wasm backend in Chromium against the same in Node: matrix-vector (1, 4096, 4096) GB/s of
 * weight read, f32 and q8_0, on 1 and 2 threads. The same code (test/browser/page.ts's
 * matvecBench) runs in both: in Node from the package's sources, in a cross-origin-isolated page
 * of headless Chromium (Debian's) bundled from its browser entry (dist/: run `pnpm build` first).
 * Each pair runs back to back, Node first, so that both see the same machine load.
 *
 *   pnpm --filter @llama-ts/kernels bench:browser [-- --threads 1,2] [-- --dtypes f32,q8_0]
 */
import type { WeightDType } from '../src/node.js';
import {
  bundlePage,
  chromiumAvailable,
  chromiumPath,
  launchChromium,
  openPage,
  servePage,
} from '../test/browser/chromium.js';
import type { KernelsPage, MatvecFigure } from '../test/browser/page.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) =>
  (args.includes(name) ? args[args.indexOf(name) + 1] : fallback) ?? fallback;
const threadCounts = option('--threads', '1,2').split(',').map(Number);
const dtypes = option('--dtypes', 'f32,q8_0').split(',') as WeightDType[];
const K = 4096;

if (!chromiumAvailable()) {
  console.error(
    `bench:browser: no Chromium at ${chromiumPath()} (scripts/setup installs it; LLAMA_TS_CHROMIUM names another)`,
  );
  process.exit(1);
}

// In Node the page script's @llama-ts/kernels is the package's own source (tsx --conditions=source).
await import('../test/browser/page.js');
const inNode = (globalThis as unknown as { kernelsPage: KernelsPage }).kernelsPage;

const { code } = await bundlePage();
const server = await servePage(code);
const browser = await launchChromium();
try {
  const page = await openPage(browser, server.url(true));
  const info = await page.call('info');
  console.log(
    `Chromium ${browser.version()} (crossOriginIsolated ${info.crossOriginIsolated}, ${info.hardwareConcurrency} cores) vs Node ${process.version}`,
  );
  console.log(`GB/s of weights read, median (best) of 21 samples`);
  console.log(`matrix-vector (1, ${K}, ${K})   threads      Node GB/s   Chromium GB/s   Chromium / Node`);
  for (const dtype of dtypes) {
    for (const threads of threadCounts) {
      const node = await inNode.matvecBench(K, dtype, threads);
      const chromium = await page.call('matvecBench', K, dtype, threads);
      const figure = (f: MatvecFigure) => `${f.gbs.toFixed(1)} (${f.bestGbs.toFixed(1)})`.padStart(15);
      console.log(
        `${dtype.padEnd(28)} ${String(chromium.threads).padStart(8)} ${figure(node)} ${figure(chromium)} ` +
          `${(chromium.gbs / node.gbs).toFixed(2).padStart(17)}`,
      );
    }
  }
  console.log(page.console.length > 0 ? `page console:\n${page.console.join('\n')}` : '');
} finally {
  await browser.close();
  await server.close();
}

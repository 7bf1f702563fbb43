/**
 * Runs test/browser/page.ts in headless Chromium: bundles it with esbuild from the package's
 * browser entry (no configuration beyond the entry point), or with Vite from a page of its own
 * (vite-page/index.html, no config file), serves it from a loopback HTTP server,
 * with or without the headers that make a page cross-origin isolated, and drives Debian's chromium
 * with playwright-core (no browser download). Used by test/browser.test.ts and bench/browser.ts.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build as viteBuild } from 'vite';
import type { KernelsPage } from './page.js';

/** Where Chromium is: LLAMA_TS_CHROMIUM, else Debian's package (scripts/setup installs it). */
export const CHROMIUM_ENV = 'LLAMA_TS_CHROMIUM';

export function chromiumPath(): string {
  return process.env[CHROMIUM_ENV] || '/usr/bin/chromium';
}

export function chromiumAvailable(): boolean {
  return existsSync(chromiumPath());
}

export interface PageBundle {
  code: string;
  warnings: string[];
  /** The files bundled, relative to the package's folder. */
  inputs: string[];
}

/** The page script, bundled for browsers: what any app that imports @llama-ts/kernels gets. */
export async function bundlePage(): Promise<PageBundle> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, 'page.ts')],
    bundle: true,
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: join(import.meta.dirname, '..', '..'),
  });
  return {
    code: result.outputFiles[0]?.text ?? '',
    warnings: result.warnings.map((warning) => warning.text),
    inputs: Object.keys(result.metafile.inputs),
  };
}

/** The page script as `vite build` makes it from vite-page/index.html, with no config file. */
export async function bundlePageWithVite(): Promise<PageBundle> {
  const warnings: string[] = [];
  const packageDir = join(import.meta.dirname, '..', '..');
  const result = await viteBuild({
    root: join(import.meta.dirname, 'vite-page'),
    configFile: false,
    logLevel: 'warn',
    // Only to hear its warnings (a Node built-in it externalised, say); nothing about the bundle.
    customLogger: {
      info: () => {},
      warn: (message) => warnings.push(message),
      warnOnce: (message) => warnings.push(message),
      error: (message) => warnings.push(message),
      clearScreen: () => {},
      hasErrorLogged: () => false,
      hasWarned: false,
    },
    build: { write: false },
  });
  const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => ('output' in r ? r.output : []));
  const chunks = outputs.filter((o) => o.type === 'chunk');
  if (chunks.length !== 1) throw new Error(`vite build: expected one chunk, got ${chunks.length}`);
  const chunk = chunks[0] as (typeof chunks)[number];
  return {
    code: chunk.code,
    warnings,
    inputs: chunk.moduleIds.map((id) => relative(packageDir, id)),
  };
}

/** Cross-origin isolation: what gives a page SharedArrayBuffer (and the wasm backend its threads). */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const HTML =
  '<!doctype html><meta charset="utf-8"><title>llama-ts kernels</title><script type="module" src="page.js"></script>';

export interface PageServer {
  /** The page's address: under /isolated/ with COOP + COEP, under /plain/ without. */
  url(isolated: boolean): string;
  close(): Promise<void>;
}

/** Serves the page (index.html and page.js) on 127.0.0.1, on a free port. */
export async function servePage(script: string): Promise<PageServer> {
  const server: Server = createServer((request, response) => {
    if (request.url === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    const match = /^\/(isolated|plain)\/(index\.html|page\.js)?$/.exec(request.url ?? '');
    if (!match) {
      response.writeHead(404).end();
      return;
    }
    const headers = match[1] === 'isolated' ? { ...ISOLATION_HEADERS } : {};
    const js = match[2] === 'page.js';
    response
      .writeHead(200, { ...headers, 'Content-Type': js ? 'text/javascript' : 'text/html', 'Cache-Control': 'no-store' })
      .end(js ? script : HTML);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (isolated) => `http://127.0.0.1:${port}/${isolated ? 'isolated' : 'plain'}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Headless Chromium as this machine runs it: as root it needs --no-sandbox, and on a closed network
 * its background connections (component updates, sync, QUIC) only fail, so they are turned off.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface OpenPage {
  page: Page;
  /** Every console message and uncaught page error so far, as '<type>: <text>'. */
  console: string[];
  /** Calls kernelsPage.<method>(...args) in the page. */
  call<Method extends keyof KernelsPage>(
    method: Method,
    ...args: Parameters<KernelsPage[Method]>
  ): Promise<Awaited<ReturnType<KernelsPage[Method]>>>;
}

/** Opens the served page and waits for its script to have run. */
export async function openPage(browser: Browser, url: string): Promise<OpenPage> {
  const page = await browser.newPage();
  const console: string[] = [];
  page.on('console', (message) => console.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => console.push(`pageerror: ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => 'kernelsPage' in globalThis);
  return {
    page,
    console,
    call: (method, ...args) =>
      page.evaluate(
        ([name, list]) => {
          const target = (globalThis as unknown as { kernelsPage: Record<string, (...a: unknown[]) => unknown> })
            .kernelsPage;
          return (target[name] as (...a: unknown[]) => unknown)(...list);
        },
        [method, args] as [string, unknown[]],
      ) as never,
  };
}

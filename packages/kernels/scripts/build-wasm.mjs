// Compiles the AssemblyScript kernels (src/wasm/kernels.as.ts and the *.as.ts files it re-exports,
// in the op rooms src/ops/<op>/ and in src/wasm/kernels/) into the WebAssembly module variants the
// wasm backend picks from at run time, and writes them base64-embedded into a generated TypeScript
// module (gitignored), so that one import works in Node and in browsers with no bundler
// configuration and no file beside the JS to locate.
//
// Variants: memory shared (threads) or not (a browser page without cross-origin isolation), each
// with plain SIMD and, where the kernels use it, relaxed SIMD (feature-detected at run time).
// Run by the package's build, typecheck and test scripts; it does nothing when the sources (every
// *.as.ts under src/, rooms included) and flags are unchanged since the last run (a hash in the
// generated file says which they were).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = 'src/wasm/kernels.as.ts';
const OUTPUT = 'src/wasm/generated/kernels-wasm.ts';

// Kernels use no managed objects, so the stub runtime is never called; --noAssert drops bounds
// checks (the TypeScript front ends validate every shape). The memory is imported: one memory
// shared by the calling thread and every worker, up to wasm32's 4 GiB.
const COMMON = [
  '--runtime',
  'stub',
  '--noAssert',
  '--optimizeLevel',
  '3',
  '--shrinkLevel',
  '0',
  '--importMemory',
  '--noExportMemory',
  '--initialMemory',
  '1',
  '--maximumMemory',
  '65536',
  '--use',
  'abort=',
];
const VARIANTS = {
  sharedSimd: ['--sharedMemory', '--enable', 'simd,threads'],
  sharedRelaxed: ['--sharedMemory', '--enable', 'simd,threads,relaxed-simd'],
  singleSimd: ['--enable', 'simd'],
  singleRelaxed: ['--enable', 'simd,relaxed-simd'],
};

function asSources(dir) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...asSources(path));
    else if (name.endsWith('.as.ts')) files.push(path);
  }
  return files;
}

function sourceHash() {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ COMMON, VARIANTS, script: readFileSync(fileURLToPath(import.meta.url), 'utf8') }));
  for (const file of asSources(join(root, 'src'))) {
    hash.update(relative(root, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

async function compile(name, flags) {
  let binary;
  const { error, stderr } = await asc.main([ENTRY, '--outFile', 'kernels.wasm', ...COMMON, ...flags], {
    baseDir: root,
    stdout: { write() {} },
    writeFile(file, contents) {
      if (file.endsWith('.wasm')) binary = contents;
    },
  });
  if (error) {
    throw new Error(`build-wasm: compiling ${ENTRY} (${name}) failed:\n${stderr.toString()}`);
  }
  checkNoData(name, binary);
  return binary;
}

/**
 * Every thread instantiates the module over the same memory, so an active data segment would be
 * written again by each instance (and a mutable global would not be shared). Kernels must not have
 * any: Mathf.exp/log and friends bring lookup tables, hence the kernels' own exp/log.
 */
function checkNoData(name, bytes) {
  let at = 8;
  const leb = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++];
      result |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result >>> 0;
      shift += 7;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    if (id === 11) {
      const count = leb();
      if (count > 0) {
        throw new Error(
          `build-wasm: the ${name} module has ${count} data segment(s); kernels must not use static data ` +
            '(arrays, strings, or Math/Mathf functions with lookup tables: use the helpers in src/wasm/kernels/common.as.ts)',
        );
      }
      return;
    }
    at += id === 11 ? 0 : size;
  }
}

async function main() {
  const hash = sourceHash();
  const outPath = join(root, OUTPUT);
  try {
    if (readFileSync(outPath, 'utf8').includes(`// source hash ${hash}\n`)) return;
  } catch {
    // Not built yet.
  }
  const started = Date.now();
  const binaries = {};
  for (const [name, flags] of Object.entries(VARIANTS)) binaries[name] = await compile(name, flags);
  // Kernels that use no relaxed instruction compile to the same bytes: ship the plain one only.
  const same = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
  const b64 = (name) => JSON.stringify(Buffer.from(binaries[name]).toString('base64'));
  const relaxed = (name, plain) => (same(binaries[name], binaries[plain]) ? 'null' : b64(name));
  const names = WebAssembly.Module.exports(new WebAssembly.Module(binaries.singleSimd))
    .filter((e) => e.kind === 'function')
    .map((e) => JSON.stringify(e.name));
  const text = [
    `// Generated by scripts/build-wasm.mjs from ${ENTRY}: do not edit, do not commit.`,
    `// source hash ${hash}`,
    '',
    '/** The kernels module, base64: memory shared (threads) or not, plain or relaxed SIMD (null: same as plain). */',
    'export const KERNELS_WASM: {',
    '  readonly sharedSimd: string;',
    '  readonly sharedRelaxed: string | null;',
    '  readonly singleSimd: string;',
    '  readonly singleRelaxed: string | null;',
    '} = {',
    `  sharedSimd: ${b64('sharedSimd')},`,
    `  sharedRelaxed: ${relaxed('sharedRelaxed', 'sharedSimd')},`,
    `  singleSimd: ${b64('singleSimd')},`,
    `  singleRelaxed: ${relaxed('singleRelaxed', 'singleSimd')},`,
    '};',
    '',
    "/** The module's exported functions: every kernel, and heapBase. */",
    `export type KernelExport = ${names.join(' | ')};`,
    '',
  ].join('\n');
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, text);
  const sizes = Object.entries(binaries)
    .map(([name, b]) => `${name} ${b.length} B`)
    .join(', ');
  console.log(`build-wasm: ${ENTRY} -> ${OUTPUT} (${sizes}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

await main();

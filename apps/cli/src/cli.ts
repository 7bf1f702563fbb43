#!/usr/bin/env node
/**
 * The `llama-ts` bin. While V8's WebAssembly trap handler is on, every WebAssembly memory reserves
 * about 10 GiB of address space (guard regions that let wasm skip bounds checks), so under a finite
 * address-space limit (`ulimit -v 8000000`) the wasm backend and tiktoken cannot start at all.
 * There, and only there, the CLI runs itself again with Node's `--disable-wasm-trap-handler`
 * (explicit bounds checks: a little slower wasm, a few GiB of address space instead of tens).
 * Nothing else is imported before that choice, so that the child pays for nothing twice.
 *
 * On Node 20, WebAssembly relaxed SIMD (on by default from Node 22) is behind a V8 flag; the CLI
 * sets it before any module is compiled, so that the wasm backend runs its relaxed-SIMD kernels
 * (a cheaper int8 dot product for q8_0) there too. The kernels' tests run that build under the same
 * flag.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { setFlagsFromString } from 'node:v8';

if (process.versions.node.startsWith('20.')) setFlagsFromString('--experimental-wasm-relaxed-simd');

const NO_TRAP_HANDLER = '--disable-wasm-trap-handler';

/** Whether this process has a soft address-space limit (Linux: /proc/self/limits; elsewhere: no). */
function addressSpaceLimited(): boolean {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((row) => row.startsWith('Max address space'));
    const soft = line?.slice('Max address space'.length).trim().split(/\s+/)[0];
    return soft !== undefined && soft !== 'unlimited';
  } catch {
    return false;
  }
}

const trapHandlerOff = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes(
  NO_TRAP_HANDLER,
);

if (addressSpaceLimited() && !trapHandlerOff) {
  const child = spawn(process.execPath, [...process.execArgv, NO_TRAP_HANDLER, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  // SIGTERM and SIGHUP sent to this process go on to the child; Ctrl-C already reaches it (the
  // terminal signals the whole process group), so SIGINT is not sent a second time.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  process.on('SIGINT', () => {});
  child.on('exit', (code, signal) => {
    process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1));
  });
} else {
  await import('./main.js');
}

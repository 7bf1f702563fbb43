/**
 * An opt-in per-op time profile of the wasm backend, for finding where decode's time goes: set
 * LLAMA_TS_WASM_PROFILE=1 (Node) and a table of the ops by total time (op and output shape, calls,
 * mean) goes to stderr when the process exits. Off, it costs one branch per dispatch.
 */
import type { Tensor } from '../tensor.js';

interface Entry {
  ms: number;
  calls: number;
}

type NodeLikeProcess = { env: Record<string, string | undefined>; on(event: 'exit', listener: () => void): void };

const nodeProcess = (globalThis as { process?: NodeLikeProcess }).process;
const entries = nodeProcess?.env.LLAMA_TS_WASM_PROFILE ? new Map<string, Entry>() : undefined;
nodeProcess?.on?.('exit', () => entries && printProfile(entries));

/** Whether dispatches are being timed. */
export const profiling = entries !== undefined;

/** Adds one dispatch of `op` that started at `start` (performance.now()) and wrote `outputs`. */
export function recordDispatch(op: string, outputs: object, start: number): void {
  if (!entries) return;
  const first = Object.values(outputs)[0] as Tensor | undefined;
  const key = `${op} [${first?.shape.join(', ') ?? ''}]`;
  const entry = entries.get(key) ?? { ms: 0, calls: 0 };
  entry.ms += performance.now() - start;
  entry.calls++;
  entries.set(key, entry);
}

function printProfile(profile: Map<string, Entry>): void {
  const rows = [...profile.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((sum, [, entry]) => sum + entry.ms, 0);
  console.error('wasm op profile: op [output shape], total ms, calls, µs per call, share');
  for (const [key, { ms, calls }] of rows) {
    const share = ((100 * ms) / total).toFixed(1);
    console.error(
      `${key.padEnd(36)} ${ms.toFixed(1).padStart(9)} ${String(calls).padStart(7)} ${((1000 * ms) / calls).toFixed(1).padStart(9)} ${share.padStart(5)} %`,
    );
  }
}

import { once } from 'node:events';

/** All of stdin as UTF-8 text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Writes to stdout, waiting when the pipe is full. */
export async function out(text: string): Promise<void> {
  if (text && !process.stdout.write(text)) await once(process.stdout, 'drain');
}

/** Exit codes of a process ended by a signal: 128 + its number. */
const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * An AbortSignal that fires on the first Ctrl-C (SIGINT) or SIGTERM, so that `kill` or a service
 * manager stopping the process gets the same clean stop (a checkpoint) as Ctrl-C; a second signal
 * exits at once. `exitCode()` is the conventional code for the signal received (130, 143).
 */
export function interruptSignal(): { signal: AbortSignal; exitCode(): number; dispose(): void } {
  const controller = new AbortController();
  let received: keyof typeof SIGNAL_EXIT_CODES = 'SIGINT';
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as (keyof typeof SIGNAL_EXIT_CODES)[]).map((name) => {
    const handler = () => {
      if (controller.signal.aborted) process.exit(SIGNAL_EXIT_CODES[received]);
      received = name;
      controller.abort();
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    exitCode: () => SIGNAL_EXIT_CODES[received],
    dispose: () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

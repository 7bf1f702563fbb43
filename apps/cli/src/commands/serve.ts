import { Command } from 'commander';
import { addContextShiftFlags, type ContextShiftFlags, contextShiftOption } from '../context-shift-flags.js';
import { CliError } from '../errors.js';
import { addModelFlags, loadFromFlags, type ModelFlags, nonNegativeInt, positiveInt } from '../model-flags.js';
import { BatchingEngine, type GenerationEngine, startServer } from '../server/index.js';

interface ServeFlags extends ModelFlags, ContextShiftFlags {
  parallel: number;
  host: string;
  port: number;
  quiet?: boolean;
  apiKey?: string;
  corsOrigin?: string;
  maxQueue: number;
}

export function serveCommand(): Command {
  const command = new Command('serve')
    .description(
      'an OpenAI-compatible HTTP server: POST /v1/completions, POST /v1/chat/completions (stream: true for server-sent events), GET /v1/models, /health, /metrics',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', nonNegativeInt, 8080)
    .option('--api-key <key>', 'require Authorization: Bearer <key> (default: $LLAMA_TS_API_KEY; none: open)')
    .option(
      '--cors-origin <origins>',
      "allow browsers on these origins ('*' or a comma-separated list; default: CORS off)",
    )
    .option(
      '--max-queue <n>',
      'sequences that may wait for the model; more get 503 with Retry-After',
      nonNegativeInt,
      64,
    )
    .option(
      '--parallel <n>',
      'sequences generated together by continuous batching, one KV-cache slot each (1: one at a time, with context shift)',
      positiveInt,
      4,
    )
    .option('--quiet', 'do not log requests to stderr');
  addContextShiftFlags(command, '1 when prompts start with bos, else 0; a request may set n_keep');
  addModelFlags(command);
  return command.action((flags: ServeFlags) => runServe(flags));
}

/** --api-key, else $LLAMA_TS_API_KEY (which keeps the key out of the process list); empty is refused. */
function apiKeyOf(flags: ServeFlags): { apiKey?: string } {
  const key = flags.apiKey ?? process.env.LLAMA_TS_API_KEY;
  if (key === undefined) return {};
  if (key.trim() === '')
    throw new CliError(`${flags.apiKey !== undefined ? '--api-key' : 'LLAMA_TS_API_KEY'} is empty; expected a key`);
  return { apiKey: key };
}

/**
 * The default context shift of requests: the CLI's (on) where the engine can shift, i.e. with
 * --parallel 1; continuous batching cannot, so there it is off and --context-shift is refused.
 */
function contextShiftOf(flags: ServeFlags) {
  if (flags.parallel > 1) {
    if (flags.contextShift === true || flags.keep !== undefined) {
      throw new CliError(
        `${flags.contextShift === true ? '--context-shift' : '--keep'} needs --parallel 1: continuous batching (--parallel ${flags.parallel}) has no context shift`,
      );
    }
    return { contextShift: false as const };
  }
  return contextShiftOption(flags);
}

/** One KV-cache slot per parallel sequence: --max-batch-size defaults to --parallel and may not be below it. */
function withSlots(flags: ServeFlags): ServeFlags {
  if (flags.maxBatchSize === undefined) return { ...flags, maxBatchSize: flags.parallel };
  if (flags.maxBatchSize < flags.parallel) {
    throw new CliError(
      `--max-batch-size ${flags.maxBatchSize} is below --parallel ${flags.parallel}; each parallel sequence needs a KV-cache slot`,
    );
  }
  return flags;
}

async function runServe(flags: ServeFlags): Promise<void> {
  apiKeyOf(flags);
  const contextShift = contextShiftOf(flags);
  const loaded = await loadFromFlags(withSlots(flags));
  // --parallel 1 keeps the SerialEngine: it can shift the context, which the batch engine cannot.
  const batching =
    flags.parallel > 1
      ? new BatchingEngine(
          loaded.llama.batchEngine({
            parallel: flags.parallel,
            queueLimit: flags.maxQueue,
            ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
          }),
        )
      : undefined;
  const engine: { engine?: GenerationEngine } = batching ? { engine: batching } : {};
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer({
      ...engine,
      ...contextShift,
      llama: loaded.llama,
      modelName: loaded.name,
      host: flags.host,
      port: flags.port,
      maxQueue: flags.maxQueue,
      warn: (line: string) => process.stderr.write(`${line}\n`),
      ...apiKeyOf(flags),
      ...(flags.corsOrigin !== undefined ? { corsOrigin: flags.corsOrigin } : {}),
      ...(flags.quiet ? {} : { log: (line: string) => process.stderr.write(`${line}\n`) }),
    });
  } catch (error) {
    batching?.close();
    loaded.dispose();
    throw error;
  }
  process.stdout.write(
    `llama-ts: serving ${loaded.name} on ${running.url}, ${flags.parallel} at a time (Ctrl-C to stop)\n`,
  );
  const stop = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    void running.close().then(() => {
      batching?.close();
      loaded.dispose();
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

import { Command } from 'commander';
import { CliError } from '../errors.js';
import { addModelFlags, loadFromFlags, type ModelFlags, nonNegativeInt } from '../model-flags.js';
import { startServer } from '../server/index.js';

interface ServeFlags extends ModelFlags {
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
    .option('--quiet', 'do not log requests to stderr');
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

async function runServe(flags: ServeFlags): Promise<void> {
  apiKeyOf(flags);
  const loaded = await loadFromFlags(flags);
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer({
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
    loaded.dispose();
    throw error;
  }
  process.stdout.write(`llama-ts: serving ${loaded.name} on ${running.url} (Ctrl-C to stop)\n`);
  const stop = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    void running.close().then(() => loaded.dispose());
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

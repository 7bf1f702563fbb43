import { Command } from 'commander';
import { addModelFlags, loadFromFlags, type ModelFlags, nonNegativeInt } from '../model-flags.js';
import { startServer } from '../server/index.js';

interface ServeFlags extends ModelFlags {
  host: string;
  port: number;
  quiet?: boolean;
}

export function serveCommand(): Command {
  const command = new Command('serve')
    .description(
      'an OpenAI-compatible HTTP server: POST /v1/completions, POST /v1/chat/completions (stream: true for server-sent events), GET /v1/models',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', nonNegativeInt, 8080)
    .option('--quiet', 'do not log requests to stderr');
  addModelFlags(command);
  return command.action((flags: ServeFlags) => runServe(flags));
}

async function runServe(flags: ServeFlags): Promise<void> {
  const loaded = await loadFromFlags(flags);
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer({
      llama: loaded.llama,
      modelName: loaded.name,
      host: flags.host,
      port: flags.port,
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

import { Command, CommanderError } from 'commander';
import { benchCommand } from './commands/bench.js';
import { chatCommand } from './commands/chat.js';
import { completeCommand } from './commands/complete.js';
import { serveCommand } from './commands/serve.js';
import { tokenizeCommand } from './commands/tokenize.js';
import { trainCommand } from './commands/train.js';
import { oneLine, reportError } from './errors.js';

const VERSION = '0.1.0';

function configure(command: Command): Command {
  command
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      // Commander's own errors (unknown option, bad value) as one `llama-ts:` line.
      outputError: (message, write) => write(`llama-ts: ${oneLine(message.replace(/^error: /, ''))}\n`),
    });
  for (const sub of command.commands) configure(sub);
  return command;
}

export function buildProgram(): Command {
  const program = new Command('llama-ts')
    .description('Llama 3 in TypeScript on WebGPU or the CPU: complete, chat, tokenize, bench, serve and train')
    .version(VERSION, '-v, --version')
    .addCommand(completeCommand())
    .addCommand(chatCommand())
    .addCommand(tokenizeCommand())
    .addCommand(benchCommand())
    .addCommand(serveCommand())
    .addCommand(trainCommand());
  return configure(program);
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError && (error.exitCode === 0 || error.code === 'commander.helpDisplayed')) return;
    reportError(error);
  }
}

await main(process.argv);

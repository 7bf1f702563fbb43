import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Llama } from '@llama-ts/generation';
import { ModelError, readRegularText } from '@llama-ts/model';
import type { Dialog } from '@llama-ts/tokenizer';
import { Command } from 'commander';
import { addContextShiftFlags, type ContextShiftFlags, contextShiftOption } from '../context-shift-flags.js';
import { CliError, errorMessage, isUserError } from '../errors.js';
import { out } from '../io.js';
import { addModelFlags, type LoadedModel, loadFromFlags, type ModelFlags } from '../model-flags.js';
import { addSamplingFlags, type SamplingFlags, samplingOptions } from '../sampling-flags.js';

interface ChatFlags extends ModelFlags, SamplingFlags, ContextShiftFlags {
  system?: string;
  dialogs?: string;
}

export function chatCommand(): Command {
  const command = new Command('chat')
    .description('chat with the model: an interactive REPL (/reset, /exit), or --dialogs FILE.json as a batch')
    .option('--system <text>', 'a system message that opens the conversation')
    .option(
      '--dialogs <file>',
      "run a JSON array of dialogs ([[{role, content}, ...], ...]) as the reference's example does",
    );
  addSamplingFlags(command);
  addContextShiftFlags(command, 'bos, and in the REPL the --system message');
  addModelFlags(command);
  return command.action((flags: ChatFlags) => runChat(flags));
}

async function runChat(flags: ChatFlags): Promise<void> {
  contextShiftOption(flags); // bad flag combinations fail before the model loads
  const dialogs = flags.dialogs !== undefined ? await readDialogs(flags.dialogs) : undefined;
  const loaded = await loadFromFlags(flags);
  try {
    const unavailable = loaded.llama.chatUnavailable;
    if (unavailable?.because === 'template') throw new CliError(`chat: ${unavailable.message}`);
    if (unavailable) {
      throw new CliError(
        'chat needs the Llama 3 tokenizer or a Llama 2 one (tokenizer.model), which has a chat format; pass --tokenizer',
      );
    }
    if (dialogs) await runDialogs(loaded.llama, dialogs, flags);
    else await repl(loaded, flags);
  } finally {
    loaded.dispose();
  }
}

async function readDialogs(path: string): Promise<Dialog[]> {
  let json: unknown;
  try {
    if (!existsSync(path)) throw new CliError(`dialogs file ${path} does not exist`);
    // A regular file only: a FIFO would block, a directory would be a bare EISDIR.
    json = JSON.parse(await readRegularText(path, 'dialogs file'));
  } catch (error) {
    if (error instanceof CliError || error instanceof ModelError) throw error;
    throw new CliError(`${path}: ${(error as Error).message}`);
  }
  if (!Array.isArray(json) || json.length === 0 || !json.every(Array.isArray)) {
    throw new CliError(`${path}: expected a non-empty JSON array of dialogs (arrays of { role, content })`);
  }
  return json as Dialog[];
}

/** As llama3's example_chat_completion.py: batches of maxBatchSize, each dialog then its reply. */
async function runDialogs(llama: Llama, dialogs: Dialog[], flags: ChatFlags): Promise<void> {
  const batch = llama.model.args.maxBatchSize;
  for (let start = 0; start < dialogs.length; start += batch) {
    const slice = dialogs.slice(start, start + batch);
    const results = await llama.chatCompletion(slice, { ...samplingOptions(flags), ...contextShiftOption(flags) });
    for (const [i, dialog] of slice.entries()) {
      for (const message of dialog) await out(`${capitalize(message.role)}: ${message.content}\n\n`);
      const reply = results[i]?.generation;
      await out(`> ${capitalize(reply?.role ?? 'assistant')}: ${reply?.content ?? ''}\n`);
      await out('\n==================================\n\n');
    }
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

async function repl(loaded: LoadedModel, flags: ChatFlags): Promise<void> {
  const session = loaded.llama.chatSession(flags.system !== undefined ? { system: flags.system } : {});
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  let generating: AbortController | undefined;
  // Ctrl-C stops a reply being generated; at the prompt it ends the chat.
  rl.on('SIGINT', () => {
    if (generating) generating.abort();
    else rl.close();
  });
  if (process.stdin.isTTY) {
    process.stderr.write(`llama-ts: chatting with ${loaded.name}; /reset starts over, /exit (or Ctrl-D) quits\n`);
  }
  rl.setPrompt('> ');
  const options = { ...samplingOptions(flags), ...contextShiftOption(flags) };
  // The async iterator buffers lines that arrive while a reply is generated (piped input).
  const lines = rl[Symbol.asyncIterator]();
  for (;;) {
    if (process.stdin.isTTY) rl.prompt();
    const next = await lines.next();
    if (next.done) break;
    const line: string = next.value;
    const input = line.trim();
    if (input === '') continue;
    if (input === '/exit' || input === '/quit') break;
    if (input === '/reset') {
      session.reset();
      process.stderr.write('llama-ts: conversation reset\n');
      continue;
    }
    if (input.startsWith('/')) {
      process.stderr.write(`llama-ts: unknown command ${input} (/reset, /exit)\n`);
      continue;
    }
    generating = new AbortController();
    try {
      for await (const delta of session.send(line, { ...options, signal: generating.signal })) {
        await out(delta.text);
      }
      await out('\n');
    } catch (error) {
      // A reply cut by Ctrl-C, or a turn the model cannot take (the context is full): say so, go on.
      if (!generating.signal.aborted && !isUserError(error)) throw error;
      await out('\n');
      if (!generating.signal.aborted) process.stderr.write(`llama-ts: ${errorMessage(error)}\n`);
    } finally {
      generating = undefined;
    }
  }
  rl.close();
}

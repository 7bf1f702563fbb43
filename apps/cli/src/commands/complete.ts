import { Command } from 'commander';
import { addContextShiftFlags, type ContextShiftFlags, contextShiftOption } from '../context-shift-flags.js';
import { CliError } from '../errors.js';
import { checkIdsInVocab, parseIds } from '../ids.js';
import { interruptSignal, out, readStdin } from '../io.js';
import { addModelFlags, loadFromFlags, type ModelFlags } from '../model-flags.js';
import { addSamplingFlags, type SamplingFlags, samplingOptions } from '../sampling-flags.js';

interface CompleteFlags extends ModelFlags, SamplingFlags, ContextShiftFlags {
  prompt?: string;
  promptTokens?: string;
  logprobs?: boolean;
  echo?: boolean;
  json?: boolean;
}

/** The reference's completion object (text_completion), with the ids as `token_ids`. */
interface CompletionJSON {
  generation: string;
  tokens?: string[];
  token_ids?: number[];
  logprobs?: number[];
}

export function completeCommand(): Command {
  const command = new Command('complete')
    .description('complete a prompt: text streams to stdout as it is generated, or --json prints one object')
    .option('--prompt <text>', 'the prompt (default: read from stdin when it is not a terminal)')
    .option('--prompt-tokens <ids>', 'the prompt as token ids, e.g. 1,2,3 (for checkpoints without a tokenizer)');
  addSamplingFlags(command);
  addContextShiftFlags(command, 'bos');
  command
    .option('--logprobs', "with --json: the tokens' log-probabilities")
    .option('--echo', 'include the prompt in the output')
    .option('--json', "print the reference's completion object { generation, tokens, token_ids, logprobs }");
  addModelFlags(command);
  return command.action((flags: CompleteFlags) => runComplete(flags));
}

async function promptText(flags: CompleteFlags): Promise<string | undefined> {
  if (flags.prompt !== undefined && flags.promptTokens !== undefined) {
    throw new CliError('give --prompt or --prompt-tokens, not both');
  }
  if (flags.promptTokens !== undefined) return undefined;
  if (flags.prompt !== undefined) return flags.prompt;
  if (process.stdin.isTTY)
    throw new CliError('no prompt: give --prompt TEXT, --prompt-tokens IDS or pipe text to stdin');
  return readStdin();
}

async function runComplete(flags: CompleteFlags): Promise<void> {
  if (flags.logprobs && !flags.json) throw new CliError('--logprobs needs --json');
  contextShiftOption(flags); // bad flag combinations fail before the model loads
  const text = await promptText(flags);
  const givenIds = flags.promptTokens !== undefined ? parseIds(flags.promptTokens, '--prompt-tokens') : undefined;
  const loaded = await loadFromFlags(flags);
  try {
    const { llama } = loaded;
    const tokenizer = llama.tokenizer;
    const promptIds = givenIds ?? tokenizer.encode(text ?? '', { bos: true, eos: false });
    checkIdsInVocab(promptIds, llama.model.args.vocabSize, 'prompt');
    const options = { ...samplingOptions(flags), ...contextShiftOption(flags) };
    const maxSeqLen = llama.model.args.maxSeqLen;
    if (options.contextShift !== false && promptIds.length > maxSeqLen && !(flags.echo && flags.logprobs)) {
      process.stderr.write(
        `llama-ts: the prompt (${promptIds.length} tokens) is longer than the context (maxSeqLen ${maxSeqLen}); the model sees its first --keep tokens and its most recent ones (--no-context-shift refuses it)\n`,
      );
    }
    if (flags.json) {
      const result = await llama.generate([promptIds], {
        ...options,
        ...(flags.logprobs ? { logprobs: true } : {}),
        ...(flags.echo ? { echo: true } : {}),
      });
      const ids = result.tokens[0] ?? [];
      const object: CompletionJSON = { generation: tokenizer.decode(ids) };
      if (flags.logprobs && loaded.hasTokenizer) object.tokens = ids.map((id) => tokenizer.decode([id]));
      // Without a tokenizer the ids are the output, so they are always there.
      if (flags.logprobs || !loaded.hasTokenizer) object.token_ids = ids;
      if (flags.logprobs) object.logprobs = result.logprobs?.[0] ?? [];
      await out(`${JSON.stringify(object)}\n`);
      return;
    }
    const interrupt = interruptSignal();
    try {
      if (flags.echo) await out(text ?? tokenizer.decode(promptIds));
      for await (const delta of llama.stream(promptIds, { ...options, signal: interrupt.signal })) {
        await out(delta.text);
      }
      await out('\n');
    } finally {
      interrupt.dispose();
    }
  } finally {
    loaded.dispose();
  }
}

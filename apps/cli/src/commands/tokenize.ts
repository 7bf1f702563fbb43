import { readFile } from 'node:fs/promises';
import { tokenizerFromGGUF } from '@llama-ts/generation';
import { findTokenizerFile, isGGUFFile, TOKENIZER_FILES } from '@llama-ts/model';
import {
  type Dialog,
  dialogFormatFor,
  loadAnyTokenizer,
  type TextTokenizer,
  tokenizerFamily,
} from '@llama-ts/tokenizer/node';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { checkIdsInVocab, parseIds } from '../ids.js';
import { out, readStdin } from '../io.js';
import { defaultModelDir, resolveModelPath } from '../model-flags.js';

interface TokenizeFlags {
  tokenizer?: string;
  model?: string;
  ckptDir?: string;
  text?: string;
  bos?: boolean;
  eos?: boolean;
  decode?: boolean;
  dialog?: string;
}

export function tokenizeCommand(): Command {
  return new Command('tokenize')
    .description('encode text to token ids (printed as JSON), or with --decode ids to text')
    .option(
      '--tokenizer <path>',
      "tokenizer.model (Llama 3), tokenizer.json (Hugging Face's Llama 3, or a character tokenizer)",
    )
    .option(
      '-m, --model <path>',
      "use the tokenizer of this GGUF file or checkpoint folder (default: the built-in model's)",
    )
    .option('--ckpt-dir <dir>', 'a checkpoint folder (the older name of --model)')
    .option('--text <text>', 'the text (or with --decode the ids); default: stdin')
    .option('--bos', 'prepend the begin-of-text id')
    .option('--eos', 'append the end-of-text id')
    .option('--decode', 'read token ids (JSON array or 1,2,3) and print their text')
    .option(
      '--dialog <file>',
      "print the prompt ids chat completion gives the model for a dialog (JSON [{role, content}, ...]), in the tokenizer's chat format (Llama 3 or Llama 2)",
    )
    .action((flags: TokenizeFlags) => runTokenize(flags));
}

async function openTokenizer(flags: TokenizeFlags): Promise<TextTokenizer> {
  if (flags.tokenizer !== undefined) return loadAnyTokenizer(flags.tokenizer);
  const named = flags.model !== undefined || flags.ckptDir !== undefined;
  const model = named ? resolveModelPath(flags) : defaultModelDir();
  if (await isGGUFFile(model)) {
    const fromFile = await tokenizerFromGGUF(model);
    if (!fromFile) throw new CliError(`${model} has no tokenizer (tokenizer.ggml.*); pass --tokenizer`);
    return fromFile.tokenizer;
  }
  const path = await findTokenizerFile(model);
  if (!path) {
    throw new CliError(
      named
        ? `${flags.model ?? flags.ckptDir} has no ${TOKENIZER_FILES.join(' or ')}; pass --tokenizer`
        : 'no --tokenizer given and the built-in default model is not installed (apps/cli/default-model); pass --tokenizer',
    );
  }
  return loadAnyTokenizer(path);
}

async function runTokenize(flags: TokenizeFlags): Promise<void> {
  if (flags.dialog !== undefined) {
    const extra = (['text', 'bos', 'eos', 'decode'] as const).filter((flag) => flags[flag] !== undefined);
    if (extra.length > 0) {
      throw new CliError(`--dialog encodes a whole dialog; drop ${extra.map((flag) => `--${flag}`).join(', ')}`);
    }
    const dialog = await readDialog(flags.dialog);
    const tokenizer = await openTokenizer(flags);
    const format = dialogFormatFor(tokenizer);
    if (!format)
      throw new CliError('--dialog needs a Llama 3 or Llama 2 tokenizer (tokenizer.model), which has a chat format');
    const ids = format.encodeDialogPrompt(dialog);
    process.stderr.write(`llama-ts: ${tokenizerFamily(tokenizer) === 'llama2' ? 'Llama 2' : 'Llama 3'} chat format\n`);
    await out(`${JSON.stringify(ids)}\n`);
    return;
  }
  const tokenizer = await openTokenizer(flags);
  let input = flags.text;
  if (input === undefined) {
    if (process.stdin.isTTY) throw new CliError('no input: give --text or pipe it to stdin');
    input = await readStdin();
  }
  if (flags.decode) {
    if (flags.bos || flags.eos) throw new CliError('--bos and --eos are for encoding, not --decode');
    const ids = parseIds(input, '--decode');
    checkIdsInVocab(ids, tokenizer.nWords, '--decode');
    await out(`${tokenizer.decode(ids)}\n`);
    return;
  }
  const ids = tokenizer.encode(input, { bos: flags.bos === true, eos: flags.eos === true });
  await out(`${JSON.stringify(ids)}\n`);
}

async function readDialog(path: string): Promise<Dialog> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? `dialog file ${path} does not exist` : `${path}: ${(error as Error).message}`,
    );
  }
  if (!Array.isArray(json) || json.length === 0) {
    throw new CliError(`${path}: expected a non-empty JSON array of messages ({ role, content })`);
  }
  return json as Dialog;
}

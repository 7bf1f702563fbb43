import { findTokenizerFile, TOKENIZER_FILES } from '@llama-ts/model';
import { loadAnyTokenizer, type TextTokenizer } from '@llama-ts/tokenizer/node';
import { Command } from 'commander';
import { CliError } from '../errors.js';
import { checkIdsInVocab, parseIds } from '../ids.js';
import { out, readStdin } from '../io.js';
import { defaultModelDir } from '../model-flags.js';

interface TokenizeFlags {
  tokenizer?: string;
  ckptDir?: string;
  text?: string;
  bos?: boolean;
  eos?: boolean;
  decode?: boolean;
}

export function tokenizeCommand(): Command {
  return new Command('tokenize')
    .description('encode text to token ids (printed as JSON), or with --decode ids to text')
    .option('--tokenizer <path>', 'tokenizer.model (Llama 3) or tokenizer.json (character tokenizer)')
    .option('--ckpt-dir <dir>', "use the tokenizer in this checkpoint folder (default: the built-in model's)")
    .option('--text <text>', 'the text (or with --decode the ids); default: stdin')
    .option('--bos', 'prepend the begin-of-text id')
    .option('--eos', 'append the end-of-text id')
    .option('--decode', 'read token ids (JSON array or 1,2,3) and print their text')
    .action((flags: TokenizeFlags) => runTokenize(flags));
}

async function openTokenizer(flags: TokenizeFlags): Promise<TextTokenizer> {
  const path = flags.tokenizer ?? (await findTokenizerFile(flags.ckptDir ?? defaultModelDir()));
  if (!path) {
    throw new CliError(
      flags.ckptDir !== undefined
        ? `${flags.ckptDir} has no ${TOKENIZER_FILES.join(' or ')}; pass --tokenizer`
        : 'no --tokenizer given and the built-in default model is not installed (apps/cli/default-model); pass --tokenizer',
    );
  }
  return loadAnyTokenizer(path);
}

async function runTokenize(flags: TokenizeFlags): Promise<void> {
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

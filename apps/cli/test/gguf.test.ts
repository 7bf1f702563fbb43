// --model / -m takes a GGUF file (or a folder) on every model command; --ckpt-dir stays its alias.
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bf16ToF32 } from '@llama-ts/kernels';
import { GGUFValueType, ggufValue, openCheckpoint, writeGGUF, writeLlamaGGUF } from '@llama-ts/model';
import { goldenDir, goldenExpected } from '@llama-ts/test-support';
import { byteLevelVocabularyFromRanks } from '@llama-ts/tokenizer';
import { loadSentencePieceTokenizer } from '@llama-ts/tokenizer/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { LLAMA3_TOKENIZER, runCli, SENTENCEPIECE_TOKENIZER } from './helpers.js';

const expected = goldenExpected('tiny-meta-bf16');
let gguf: string;
let withVocabulary: string;
let withSentencePiece: string;

/** The golden Meta checkpoint as an F16 GGUF with `metadata`. */
async function goldenAsGGUF(name: string, metadata = {}): Promise<string> {
  const { args, reader } = await openCheckpoint(goldenDir('tiny-meta-bf16'));
  const tensors = [];
  for (const tensor of reader.tensors) {
    const values = bf16ToF32(new Uint16Array((await tensor.read()).slice().buffer));
    tensors.push({ name: tensor.name, shape: tensor.shape, values });
  }
  await reader.close();
  const path = join(await mkdtemp(join(tmpdir(), 'llama-ts-cli-gguf-')), `${name}.gguf`);
  await writeLlamaGGUF(path, { params: { ...args, contextLength: 64 }, tensors, type: 'F16', metadata });
  return path;
}

/** ../shared's SentencePiece vocabulary as llama.cpp's converter writes it (tokens, scores, types), no tensors. */
async function sentencePieceGGUF(): Promise<string> {
  const model = await loadSentencePieceTokenizer(SENTENCEPIECE_TOKENIZER);
  const ids = Array.from({ length: model.nWords }, (_, id) => id);
  const typeNumbers = { normal: 1, unknown: 2, control: 3, user_defined: 4, unused: 5, byte: 6 } as const;
  const path = join(await mkdtemp(join(tmpdir(), 'llama-ts-cli-gguf-')), 'spm.gguf');
  await writeGGUF(path, {
    metadata: {
      'tokenizer.ggml.model': ggufValue.string('llama'),
      'tokenizer.ggml.tokens': ggufValue.array(
        GGUFValueType.STRING,
        ids.map((id) => model.idToPiece(id)),
      ),
      'tokenizer.ggml.scores': ggufValue.array(
        GGUFValueType.FLOAT32,
        ids.map((id) => model.pieceScore(id)),
      ),
      'tokenizer.ggml.token_type': ggufValue.array(
        GGUFValueType.INT32,
        ids.map((id) => typeNumbers[model.pieceType(id)]),
      ),
    },
    tensors: [],
  });
  return path;
}

beforeAll(async () => {
  gguf = await goldenAsGGUF('tiny');
  withSentencePiece = await sentencePieceGGUF();
  const { tokens, tokenTypes, merges } = byteLevelVocabularyFromRanks(readFileSync(LLAMA3_TOKENIZER, 'utf8'));
  withVocabulary = await goldenAsGGUF('tiny-with-llama3-vocabulary', {
    'tokenizer.ggml.model': ggufValue.string('gpt2'),
    'tokenizer.ggml.pre': ggufValue.string('llama-bpe'),
    'tokenizer.ggml.tokens': ggufValue.array(GGUFValueType.STRING, tokens),
    'tokenizer.ggml.token_type': ggufValue.array(GGUFValueType.INT32, tokenTypes),
    'tokenizer.ggml.merges': ggufValue.array(GGUFValueType.STRING, merges),
  });
}, 120_000);

function expectOneLineError(result: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(result.code).not.toBe(0);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('complete --model FILE.gguf', () => {
  const prompt = ['--backend', 'cpu', '--prompt-tokens', expected.tokens.join(','), '--temperature', '0'];

  it.each(['--model', '-m'])('%s: the golden continuation and log-probs', async (flag) => {
    const result = await runCli([
      'complete',
      flag,
      gguf,
      ...prompt,
      '--max-gen-len',
      '16',
      '--json',
      '--echo',
      '--logprobs',
    ]);
    expect(result.stderr).toBe('');
    const object = JSON.parse(result.stdout);
    expect(object.token_ids).toEqual([...expected.tokens, ...expected.greedy.tokens]);
    const want = [0, ...expected.prompt_logprobs, ...expected.greedy.logprobs];
    object.logprobs.forEach((value: number, i: number) => {
      expect(Math.abs(value - (want[i] as number))).toBeLessThanOrEqual(expected.tolerances.logprob_atol);
    });
  });

  it('--model takes a folder too', async () => {
    const result = await runCli([
      'complete',
      '-m',
      goldenDir('tiny-meta-bf16'),
      ...prompt,
      '--max-gen-len',
      '4',
      '--json',
    ]);
    expect(JSON.parse(result.stdout).token_ids).toEqual(expected.greedy.tokens.slice(0, 4));
  });

  it('bench names the model by its file', async () => {
    const result = await runCli(['bench', '-m', gguf, '--backend', 'cpu', '-p', '4', '-n', '2', '-r', '1', '--json']);
    expect(result.stderr).toBe('');
    expect(JSON.stringify(JSON.parse(result.stdout))).toContain('"tiny"');
  });

  it('refuses --model with --ckpt-dir, a missing path, a file that is not GGUF', async () => {
    expectOneLineError(
      await runCli(['complete', '-m', gguf, '--ckpt-dir', goldenDir('tiny-meta-bf16'), '--prompt', 'x']),
      /--model and --ckpt-dir name the same thing/,
    );
    expectOneLineError(
      await runCli(['complete', '-m', '/nonexistent/x.gguf', '--prompt', 'x']),
      /--model \/nonexistent\/x\.gguf: no such file or folder/,
    );
    expectOneLineError(
      await runCli(['complete', '-m', LLAMA3_TOKENIZER, '--backend', 'cpu', '--prompt', 'x']),
      /tokenizer\.model is a file but not a GGUF file/,
    );
  });

  it('a GGUF with a vocabulary llama-ts cannot read runs on --prompt-tokens, with a note', async () => {
    const bert = await goldenAsGGUF('tiny-bert', {
      'tokenizer.ggml.model': ggufValue.string('bert'),
      'tokenizer.ggml.tokens': ggufValue.array(GGUFValueType.STRING, ['[UNK]', '[CLS]', '[SEP]']),
    });
    const result = await runCli(['complete', '-m', bert, ...prompt, '--max-gen-len', '4', '--json']);
    expect(JSON.parse(result.stdout).token_ids).toEqual(expected.greedy.tokens.slice(0, 4));
    expect(result.stderr).toMatch(
      /^llama-ts: .*tiny-bert\.gguf: metadata "tokenizer\.ggml\.model" is "bert"; llama-ts reads .*; driving the model with token ids\n$/,
    );
  });

  it('chat on a GGUF without a Llama 3 tokenizer is one line', async () => {
    expectOneLineError(
      await runCli(['chat', '-m', gguf, '--backend', 'cpu'], { input: 'hi\n' }),
      /chat needs the Llama 3 tokenizer/,
    );
  });
});

describe('tokenize --model FILE.gguf', () => {
  it('uses the file’s vocabulary: the ids of tokenizer.model', async () => {
    const text = 'This is a test sentence. 巴黎';
    const fromGGUF = await runCli(['tokenize', '-m', withVocabulary, '--text', text, '--bos']);
    const fromRanks = await runCli(['tokenize', '--tokenizer', LLAMA3_TOKENIZER, '--text', text, '--bos']);
    expect(fromGGUF.stderr).toBe('');
    expect(fromGGUF.stdout).toBe(fromRanks.stdout);
  });

  it('a SentencePiece vocabulary (Llama 2’s format): the ids and [INST] dialog of tokenizer.model', async () => {
    const text = 'ROMEO:\nBut, soft! 巴黎';
    const fromGGUF = await runCli(['tokenize', '-m', withSentencePiece, '--text', text, '--bos']);
    const fromModel = await runCli(['tokenize', '--tokenizer', SENTENCEPIECE_TOKENIZER, '--text', text, '--bos']);
    expect(fromGGUF.stderr).toBe('');
    expect(fromGGUF.stdout).toBe(fromModel.stdout);
    const dialog = join(await mkdtemp(join(tmpdir(), 'llama-ts-cli-dialog-')), 'dialog.json');
    await writeFile(dialog, JSON.stringify([{ role: 'user', content: 'Who is Romeo?' }]));
    const prompt = await runCli(['tokenize', '-m', withSentencePiece, '--dialog', dialog]);
    expect(prompt.stderr).toBe('llama-ts: Llama 2 chat format\n');
    expect(prompt.stdout).toBe(
      (await runCli(['tokenize', '--tokenizer', SENTENCEPIECE_TOKENIZER, '--dialog', dialog])).stdout,
    );
  });

  it('a GGUF without a vocabulary says so', async () => {
    expectOneLineError(
      await runCli(['tokenize', '-m', gguf, '--text', 'x']),
      /has no tokenizer \(tokenizer\.ggml\.\*\); pass --tokenizer/,
    );
  });
});

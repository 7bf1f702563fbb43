import { GOLDEN_CHECKPOINTS, goldenDir, goldenExpected } from '@llama-ts/test-support';
import { describe, expect, it } from 'vitest';
import { LLAMA3_TOKENIZER, runCli } from './helpers.js';

function expectOneLineError(result: { code: number | null; stderr: string; stdout: string }, pattern?: RegExp) {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^llama-ts: /);
  if (pattern) expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe.each(GOLDEN_CHECKPOINTS)('complete on the golden %s', (name) => {
  const expected = goldenExpected(name);
  const base = [
    'complete',
    '--ckpt-dir',
    goldenDir(name),
    '--backend',
    'cpu',
    '--prompt-tokens',
    expected.tokens.join(','),
  ];

  it('--temperature 0 --json continues the prompt as greedy.tokens', async () => {
    const result = await runCli([...base, '--temperature', '0', '--max-gen-len', '16', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const object = JSON.parse(result.stdout);
    expect(object.token_ids).toEqual(expected.greedy.tokens);
    expect(object.generation).toBe(expected.greedy.tokens.map((id) => `<${id}>`).join(''));
    expect(object.tokens).toBeUndefined();
  });

  it('--echo --logprobs gives the prompt log-probs', async () => {
    const result = await runCli([
      ...base,
      '--temperature',
      '0',
      '--max-gen-len',
      '16',
      '--json',
      '--echo',
      '--logprobs',
    ]);
    expect(result.code).toBe(0);
    const object = JSON.parse(result.stdout);
    expect(object.token_ids).toEqual([...expected.tokens, ...expected.greedy.tokens]);
    const want = [0, ...expected.prompt_logprobs, ...expected.greedy.logprobs];
    expect(object.logprobs).toHaveLength(want.length);
    const atol = expected.tolerances.logprob_atol;
    object.logprobs.forEach((value: number, i: number) => {
      expect(Math.abs(value - (want[i] as number))).toBeLessThanOrEqual(atol);
    });
  });

  it('streams the text to stdout without --json', async () => {
    const result = await runCli([...base, '--temperature', '0', '--max-gen-len', '4']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `${expected.greedy.tokens
        .slice(0, 4)
        .map((id) => `<${id}>`)
        .join('')}\n`,
    );
  });
});

describe('complete --stop-tokens', () => {
  it('stops on a named id (without a tokenizer there are none by default)', async () => {
    const expected = goldenExpected('tiny-meta-bf16');
    const stop = expected.greedy.tokens[3] as number;
    const result = await runCli([
      'complete',
      '--ckpt-dir',
      goldenDir('tiny-meta-bf16'),
      '--backend',
      'cpu',
      '--prompt-tokens',
      expected.tokens.join(','),
      '--temperature',
      '0',
      '--max-gen-len',
      '16',
      '--json',
      '--stop-tokens',
      String(stop),
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).token_ids).toEqual(expected.greedy.tokens.slice(0, 3));
  });
});

describe('tokenize', () => {
  it('encodes with --bos --eos', async () => {
    const result = await runCli([
      'tokenize',
      '--tokenizer',
      LLAMA3_TOKENIZER,
      '--text',
      'This is a test sentence.',
      '--bos',
      '--eos',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([128000, 2028, 374, 264, 1296, 11914, 13, 128001]);
  });

  it('reads the text from stdin', async () => {
    const result = await runCli(['tokenize', '--tokenizer', LLAMA3_TOKENIZER], { input: 'This is a test sentence.' });
    expect(JSON.parse(result.stdout)).toEqual([2028, 374, 264, 1296, 11914, 13]);
  });

  it('--decode is the reverse', async () => {
    const result = await runCli([
      'tokenize',
      '--tokenizer',
      LLAMA3_TOKENIZER,
      '--decode',
      '--text',
      '[128000, 2028, 374, 264, 1296, 11914, 13, 128001]',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('<|begin_of_text|>This is a test sentence.<|end_of_text|>\n');
    const plain = await runCli(['tokenize', '--tokenizer', LLAMA3_TOKENIZER, '--decode'], {
      input: '2028,374,264,1296,11914,13',
    });
    expect(plain.stdout).toBe('This is a test sentence.\n');
  });
});

describe('bad input: one line on stderr, non-zero exit', () => {
  const golden = goldenDir('tiny-meta-bf16');

  it('a missing checkpoint folder', async () => {
    expectOneLineError(
      await runCli(['complete', '--ckpt-dir', '/nonexistent/ckpt', '--prompt', 'hi']),
      /does not exist/,
    );
  });

  it('malformed --prompt-tokens', async () => {
    expectOneLineError(
      await runCli(['complete', '--ckpt-dir', golden, '--backend', 'cpu', '--prompt-tokens', '1,two,3']),
      /--prompt-tokens/,
    );
  });

  it('a token id outside the vocabulary', async () => {
    expectOneLineError(
      await runCli(['complete', '--ckpt-dir', golden, '--backend', 'cpu', '--prompt-tokens', '1,99999']),
      /vocabulary/,
    );
  });

  it('a prompt longer than --max-seq-len, without the context shift', async () => {
    const ids = goldenExpected('tiny-meta-bf16').tokens.join(',');
    expectOneLineError(
      await runCli([
        'complete',
        '--ckpt-dir',
        golden,
        '--backend',
        'cpu',
        '--max-seq-len',
        '8',
        '--no-context-shift',
        '--prompt-tokens',
        ids,
      ]),
      /longer than the context/,
    );
  });

  it('bad flags', async () => {
    expectOneLineError(await runCli(['complete', '--no-such-flag']), /unknown option/);
    expectOneLineError(await runCli(['complete', '--backend', 'gpu', '--prompt', 'x']), /backend/);
    expectOneLineError(await runCli(['complete', '--max-seq-len', 'abc', '--prompt', 'x']), /max-seq-len/);
    expectOneLineError(await runCli(['nonsense']), /unknown command/);
  });

  it('a missing tokenizer file', async () => {
    expectOneLineError(await runCli(['tokenize', '--tokenizer', '/nonexistent/tokenizer.model', '--text', 'x']));
  });

  it('malformed ids to --decode', async () => {
    expectOneLineError(await runCli(['tokenize', '--tokenizer', LLAMA3_TOKENIZER, '--decode', '--text', '[1, 2']));
  });
});

describe('--help', () => {
  it.each(['complete', 'chat', 'tokenize', 'bench', 'serve'])('%s --help', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Usage: llama-ts ${command}`));
  });
});

describe('bench', () => {
  it('--json prints both figures', async () => {
    const result = await runCli([
      'bench',
      '--ckpt-dir',
      goldenDir('tiny-meta-bf16'),
      '--backend',
      'cpu',
      '--json',
      '-p',
      '8',
      '-n',
      '4',
      '-r',
      '2',
    ]);
    expect(result.code).toBe(0);
    const object = JSON.parse(result.stdout);
    expect(object.backend).toBe('cpu');
    expect(object.prefill_tokens_per_s).toBeGreaterThan(0);
    expect(object.decode_tokens_per_s).toBeGreaterThan(0);
    expect(object.prefill_runs).toHaveLength(2);
  });

  it('prints a table', async () => {
    const result = await runCli([
      'bench',
      '--ckpt-dir',
      goldenDir('tiny-meta-bf16'),
      '--backend',
      'cpu',
      '-p',
      '8',
      '-n',
      '4',
      '-r',
      '1',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\| pp8 /);
    expect(result.stdout).toMatch(/\| tg4 /);
  });
});

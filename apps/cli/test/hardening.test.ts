// The CLI under hostile conditions: an address-space limit (ulimit -v), a Hugging Face folder whose
// tokenizer.json is transformers', absurd sizes. Each works, or fails with one line.
import { spawnSync } from 'node:child_process';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenDir } from '@llama-ts/test-support';
import { describe, expect, it } from 'vitest';
import { CLI, LLAMA3_TOKENIZER, runCli } from './helpers.js';

/** Runs the CLI under `ulimit -v 8000000` (8 GB of address space), as a user's shell would. */
function underUlimit(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const quoted = args.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  const result = spawnSync(
    'bash',
    ['-c', `ulimit -v 8000000 && exec "${process.execPath}" '${CLI}' ${quoted} < /dev/null`],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('under ulimit -v 8000000', () => {
  it('prints --version and --help', () => {
    expect(underUlimit(['--version'])).toMatchObject({ status: 0, stdout: '0.1.0\n' });
    const help = underUlimit(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: llama-ts');
  });

  it("tokenizes with the built-in model's tokenizer and with Llama 3's", () => {
    expect(underUlimit(['tokenize', '--text', 'ROMEO'])).toMatchObject({ status: 0 });
    const llama3 = underUlimit(['tokenize', '--tokenizer', LLAMA3_TOKENIZER, '--text', 'This is a test sentence.']);
    expect(llama3.stderr).toBe('');
    expect(llama3.stdout).toBe('[2028,374,264,1296,11914,13]\n');
  });

  it('completes on the built-in model with the default backend', () => {
    const result = underUlimit(['complete', '--prompt', 'ROMEO:', '--max-gen-len', '8', '--seed', '1']);
    expect(result.stderr).not.toMatch(/Error|OOM|at .*:\d+:\d+/);
    expect(result.status).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(0);
  }, 120_000);
});

describe("a Hugging Face folder with transformers' tokenizer.json", () => {
  async function hfFolder(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'llama-ts-cli-hf-'));
    for (const file of ['config.json', 'model.safetensors']) {
      await symlink(join(goldenDir('tiny-hf-f16'), file), join(dir, file));
    }
    await writeFile(
      join(dir, 'tokenizer.json'),
      JSON.stringify({ version: '1.0', added_tokens: [], model: { type: 'BPE', vocab: {}, merges: [] } }),
    );
    return dir;
  }

  it('loads with --prompt-tokens, and refuses a text prompt saying the format is not supported yet', async () => {
    const dir = await hfFolder();
    const ids = await runCli([
      'complete',
      '--ckpt-dir',
      dir,
      '--prompt-tokens',
      '1,2,3',
      '--max-gen-len',
      '2',
      '--temperature',
      '0',
      '--backend',
      'cpu',
    ]);
    expect(ids.stderr).toBe('');
    expect(ids.code).toBe(0);
    const text = await runCli(['complete', '--ckpt-dir', dir, '--prompt', 'hello', '--backend', 'cpu']);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(
      /^llama-ts: without a tokenizer \(.*tokenizer\.json is a Hugging Face tokenizers file \(transformers' tokenizer\.json\), which llama-ts does not read yet; .*--prompt-tokens\)\), text is read only as token ids spelled <n>.*\n$/,
    );
  });
});

describe('absurd sizes', () => {
  it('names --max-seq-len and --max-batch-size with the bytes they would need', async () => {
    for (const flags of [
      ['--max-seq-len', '100000000000'],
      ['--max-batch-size', '100000000000', '--max-seq-len', '8'],
    ]) {
      const result = await runCli([
        'complete',
        '--ckpt-dir',
        goldenDir('tiny-meta-bf16'),
        '--prompt-tokens',
        '1',
        '--backend',
        'cpu',
        ...flags,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^llama-ts: .*params\.json: the model needs [\d.]+ [TP]iB .* but this machine's memory holds at most [\d.]+ GiB; a KV cache of maxSeqLen \d+ \(max_seq_len or --max-seq-len\) × maxBatchSize \d+ \(--max-batch-size\) positions alone needs [\d.]+ [TP]iB .*; use a smaller --max-seq-len or --max-batch-size\n$/,
      );
    }
  });
});

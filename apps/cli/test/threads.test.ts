// The wasm backend from the CLI: --threads on every command that runs a model (checked before
// anything is loaded), and a model too big for the wasm backend's 4 GiB refused in one line.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenDir, goldenExpected } from '@llama-ts/test-support';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

function expectOneLineError(result: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^llama-ts: /);
  expect(lines[0]).toMatch(pattern);
}

const MODEL_COMMANDS = ['complete', 'chat', 'bench', 'serve', 'train'] as const;

describe('--threads', () => {
  it.each(MODEL_COMMANDS)('%s --help lists it', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/--threads <n>\s+threads of the wasm backend/);
  });

  it.each(MODEL_COMMANDS.flatMap((command) => ['0', '-1', 'x', '1.5'].map((value) => [command, value])))(
    '%s --threads %s is a one-line error naming the flag',
    async (command, value) => {
      expectOneLineError(
        await runCli([command, '--backend', 'wasm', '--threads', value]),
        new RegExp(`--threads <n>' argument '${value.replace('.', '\\.')}' is invalid\\. expected a positive integer`),
      );
    },
  );

  it('reaches the wasm backend: bench names its threads, complete reproduces the golden continuation', async () => {
    const golden = goldenDir('tiny-meta-bf16');
    const bench = await runCli(['bench', '--ckpt-dir', golden, '--backend', 'wasm', '--threads', '3', '--json']);
    expect(bench.code, bench.stderr).toBe(0);
    expect(JSON.parse(bench.stdout).device).toMatch(/^WebAssembly (relaxed )?SIMD backend, 3 threads/);
    const expected = goldenExpected('tiny-meta-bf16');
    const complete = await runCli([
      'complete',
      '--ckpt-dir',
      golden,
      '--backend',
      'wasm',
      '--threads',
      '2',
      '--prompt-tokens',
      expected.tokens.join(','),
      '--temperature',
      '0',
      '--max-gen-len',
      '16',
      '--json',
    ]);
    expect(complete.code, complete.stderr).toBe(0);
    expect(JSON.parse(complete.stdout).token_ids).toEqual(expected.greedy.tokens);
  });
});

describe('a model too big for the wasm backend', () => {
  it('is refused before anything is loaded (params.json alone), naming size, limit and what to do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'llama-ts-cli-too-big-'));
    // Llama 3.2 3B's parameters: 6.7 GiB as f16, 3.6 GiB as q8_0.
    const params = {
      dim: 3072,
      ffn_dim_multiplier: 1.0,
      multiple_of: 256,
      n_heads: 24,
      n_kv_heads: 8,
      n_layers: 28,
      norm_eps: 1e-5,
      rope_theta: 500000.0,
      vocab_size: 128256,
    };
    await writeFile(join(dir, 'params.json'), JSON.stringify(params));
    const args = ['--ckpt-dir', dir, '--backend', 'wasm', '--threads', '1', '--max-seq-len', '1024'];
    expectOneLineError(
      await runCli(['complete', ...args, '--prompt-tokens', '1']),
      /the model needs 6\.94 GiB \(weights 6\.72 GiB at least f16, .*\) but the wasm backend holds at most 4\.00 GiB; store the weights as q8_0 \(--weight-storage q8_0\), or use the webgpu backend$/,
    );
    // As q8_0 it passes the check, and the missing weights are the next thing said.
    expectOneLineError(
      await runCli(['complete', ...args, '--weight-storage', 'q8_0', '--prompt-tokens', '1']),
      /no consolidated\.NN\.pth checkpoint/,
    );
  });
});

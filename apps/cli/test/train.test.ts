// `llama-ts train` on a tiny model over the first 20,000 characters of Tiny Shakespeare: the
// checkpoint it writes loads and generates, --resume continues a run, Ctrl-C saves one, and bad
// flags get one-line errors.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSharedText } from '@llama-ts/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './helpers.js';

let root: string;
let data: string;
let presetFile: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-ts-cli-train-'));
  data = join(root, 'shakespeare.txt');
  await writeFile(data, readSharedText('data', 'tiny_shakespeare.txt').slice(0, 20_000));
  presetFile = join(root, 'tiny.json');
  // A constant learning rate, so that --resume may extend a run with more --steps.
  await writeFile(
    presetFile,
    JSON.stringify({
      model: { dim: 16, n_layers: 1, n_heads: 2, n_kv_heads: 1, multiple_of: 8 },
      seqLen: 8,
      batchSize: 2,
      evalBatches: 2,
      schedule: { kind: 'constant', lr: 0.01 },
    }),
  );
});

afterAll(() => rm(root, { recursive: true, force: true }));

const tiny = () => ['train', '--data', data, '--preset-file', presetFile, '--backend', 'cpu', '--eval-interval', '2'];

function expectOneLineError(result: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(result.code).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^llama-ts: /);
  expect(lines[0]).toMatch(pattern);
}

/** The loss CSV without its tokens/s column, which depends on the clock. */
async function curve(dir: string): Promise<string[]> {
  const csv = await readFile(join(dir, 'loss.csv'), 'utf8');
  return csv
    .trimEnd()
    .split('\n')
    .map((line) => line.split(',').slice(0, 4).join(','));
}

describe('llama-ts train', () => {
  it('trains, printing evaluations and a summary, and writes a checkpoint that complete can use', async () => {
    const out = join(root, 'run');
    const result = await runCli([...tiny(), '--steps', '4', '--out', out, '--seed', '7']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^training default: 5,072 parameters \(dim 16, 1 layer, vocab 61\), batch 2 × seq 8, 4 steps/,
    );
    expect(lines.slice(1, 4)).toEqual([
      expect.stringMatching(/^step 0\/4 {2}train \d\.\d{4} {2}val \d\.\d{4} {2}lr 1\.00e-2$/),
      expect.stringMatching(/^step 2\/4 {2}train \d\.\d{4} {2}val \d\.\d{4} {2}lr 1\.00e-2 {2}[\d,]+ tok\/s$/),
      expect.stringMatching(/^step 4\/4 /),
    ]);
    expect(lines[4]).toMatch(
      new RegExp(
        `^done: 4 steps in \\d+s \\([\\d,]+ tok/s\\); val loss \\d\\.\\d{4}, train loss \\d\\.\\d{4}; checkpoint in ${out}, loss curve in ${out}/loss\\.svg \\(and loss\\.csv\\)$`,
      ),
    );
    expect(lines).toHaveLength(5);
    expect((await readdir(out)).sort()).toEqual([
      'consolidated.00.pth',
      'loss.csv',
      'loss.svg',
      'params.json',
      'resume',
      'tokenizer.json',
    ]);
    expect((await readdir(join(out, 'resume'))).sort()).toEqual(['optimizer.pth', 'training-state.json']);
    expect(JSON.parse(await readFile(join(out, 'params.json'), 'utf8'))).toMatchObject({
      dim: 16,
      vocab_size: 61,
      max_seq_len: 8,
    });
    const csv = await curve(out);
    expect(csv[0]).toBe('step,train_loss,val_loss,lr');
    expect(csv.slice(1).map((line) => line.split(',')[0])).toEqual(['0', '2', '4']);

    const completion = await runCli([
      'complete',
      '--ckpt-dir',
      out,
      '--backend',
      'cpu',
      '--prompt',
      'ROMEO:',
      '--max-gen-len',
      '5',
      '--temperature',
      '0',
    ]);
    expect(completion.stderr).toBe('');
    expect(completion.code).toBe(0);
  });

  it('continues a run with --resume as if it had not stopped', async () => {
    const split = join(root, 'split');
    const straight = join(root, 'straight');
    expect((await runCli([...tiny(), '--steps', '2', '--out', split])).code).toBe(0);
    const resumed = await runCli([...tiny(), '--steps', '4', '--out', split, '--resume']);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/resuming at step 2 of 4/);
    expect((await runCli([...tiny(), '--steps', '4', '--out', straight])).code).toBe(0);
    expect(await curve(split)).toEqual(await curve(straight));
    expect(await readFile(join(split, 'consolidated.00.pth'))).toEqual(
      await readFile(join(straight, 'consolidated.00.pth')),
    );
  });

  it('saves a checkpoint and exits 130 on Ctrl-C', async () => {
    const out = join(root, 'interrupted');
    const child = spawn(process.execPath, [CLI, ...tiny(), '--steps', '1000000', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`no interruption; stdout: ${stdout} stderr: ${stderr}`));
      }, 60_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        // After the first evaluation the loop is running its steps.
        if (/^step +0\//m.test(stdout) && child.exitCode === null && !child.killed) child.kill('SIGINT');
      });
      child.on('close', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(stderr).toBe('');
    expect(code).toBe(130);
    const match = stdout.match(
      /^interrupted at step (\d+)\/1000000 \(val loss \d\.\d{4}, train loss \d\.\d{4} at step \d+\); checkpoint in .*; continue with --resume$/m,
    );
    expect(match, stdout).not.toBeNull();
    const state = JSON.parse(await readFile(join(out, 'resume', 'training-state.json'), 'utf8'));
    expect(state.step).toBe(Number(match?.[1]));
  });

  it.for([
    [['--preset', 'large'], /^llama-ts: preset: unknown training preset "large"; known: seed003, default$/],
    [['--data', 'no-such-file.txt'], /--data no-such-file\.txt does not exist/],
    [['--data', '.'], /^llama-ts: \.: the --data file is a directory, expected a regular file$/],
    [['--steps', '0'], /option '--steps <n>' argument '0' is invalid\. expected a positive integer/],
    [['--resume', '--out', '/nonexistent/run'], /--resume: \/nonexistent\/run holds no training state to continue/],
    [['--resume', '--overwrite'], /give --resume or --overwrite, not both/],
  ] as [string[], RegExp][])('fails with one line for %j', async ([flags, pattern]) => {
    const result = await runCli([...tiny(), ...flags]);
    expectOneLineError(result, pattern);
  });

  it('says what is wrong in a --preset-file', async () => {
    const bad = join(root, 'bad.json');
    await writeFile(bad, JSON.stringify({ stepz: 3 }));
    expectOneLineError(
      await runCli(['train', '--data', data, '--preset-file', bad]),
      /--preset-file .*bad\.json: overrides has an unknown field "stepz"/,
    );
    await writeFile(bad, '{ "model": ');
    expectOneLineError(
      await runCli(['train', '--data', data, '--preset-file', bad]),
      /--preset-file .*bad\.json: .*JSON/,
    );
  });

  it('refuses to train over a checkpoint without --resume or --overwrite', async () => {
    const out = join(root, 'twice');
    expect((await runCli([...tiny(), '--steps', '1', '--out', out])).code).toBe(0);
    expectOneLineError(
      await runCli([...tiny(), '--steps', '1', '--out', out]),
      /already holds a checkpoint: pass --resume to continue its run, --overwrite to replace it, or choose another --out/,
    );
    const replaced = await runCli([...tiny(), '--steps', '2', '--out', out, '--overwrite']);
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toMatch(/^done: 2 steps/m);
  });

  it("refuses a non-empty --out that is not its own run, leaving the user's files as they were", async () => {
    const out = join(root, 'users-folder');
    await mkdir(out);
    await writeFile(join(out, 'loss.csv'), 'my own measurements\n');
    await writeFile(join(out, 'tokenizer.json'), '{"mine": true}\n');
    expectOneLineError(
      await runCli([...tiny(), '--steps', '1', '--out', out]),
      /^llama-ts: --out .*users-folder is not empty \(loss\.csv, tokenizer\.json\) and holds no training run; pass --overwrite/,
    );
    expect(await readFile(join(out, 'loss.csv'), 'utf8')).toBe('my own measurements\n');
    expect(await readFile(join(out, 'tokenizer.json'), 'utf8')).toBe('{"mine": true}\n');
    expect((await readdir(out)).sort()).toEqual(['loss.csv', 'tokenizer.json']);
    expect((await runCli([...tiny(), '--steps', '1', '--out', out, '--overwrite'])).code).toBe(0);
  });

  it('refuses a Hugging Face folder as --out, even with --overwrite', async () => {
    const out = join(root, 'hf-folder');
    await mkdir(out);
    await writeFile(join(out, 'config.json'), '{"model_type": "llama"}\n');
    for (const extra of [[], ['--overwrite']]) {
      expectOneLineError(
        await runCli([...tiny(), '--steps', '1', '--out', out, ...extra]),
        /^llama-ts: --out .*hf-folder holds a Hugging Face checkpoint \(config\.json\); training there would make it load as another model/,
      );
    }
    expect(await readdir(out)).toEqual(['config.json']);
  });

  /** Starts a long training into `out`; `running` resolves after its first evaluation. */
  function startTraining(out: string) {
    const child = spawn(process.execPath, [CLI, ...tiny(), '--steps', '1000000', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const running = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`training did not start; stderr: ${stderr}`)), 60_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
        if (/^step +0\//m.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const finished = new Promise<number | null>((resolve) => child.on('close', resolve));
    return { child, running, finished, output: () => ({ stdout, stderr }) };
  }

  it('lets only one training write into an --out: the second gets one line naming the lock', async () => {
    const out = join(root, 'contended');
    const first = startTraining(out);
    try {
      await first.running;
      const second = await runCli([...tiny(), '--steps', '5', '--out', out, '--overwrite']);
      expectOneLineError(
        second,
        new RegExp(
          `^llama-ts: ${join(out, 'train.lock')}: another training \\(pid ${first.child.pid}\\) is writing to`,
        ),
      );
    } finally {
      first.child.kill('SIGINT');
    }
    expect(await first.finished).toBe(130);
    // The lock goes with the run, which left a resumable checkpoint.
    expect(await readdir(out)).not.toContain('train.lock');
    expect(JSON.parse(await readFile(join(out, 'resume', 'training-state.json'), 'utf8')).step).toBeGreaterThan(0);
  }, 120_000);

  it('saves a checkpoint and exits 143 on SIGTERM, as on Ctrl-C', async () => {
    const out = join(root, 'terminated');
    const run = startTraining(out);
    await run.running;
    run.child.kill('SIGTERM');
    expect(await run.finished).toBe(143);
    const { stdout, stderr } = run.output();
    expect(stderr).toBe('');
    const match = stdout.match(/^interrupted at step (\d+)\/1000000 .*; continue with --resume$/m);
    expect(match, stdout).not.toBeNull();
    const state = JSON.parse(await readFile(join(out, 'resume', 'training-state.json'), 'utf8'));
    expect(state.step).toBe(Number(match?.[1]));
  }, 120_000);
});

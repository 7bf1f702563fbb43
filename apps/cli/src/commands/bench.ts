import { Command } from 'commander';
import { out } from '../io.js';
import { addModelFlags, loadFromFlags, type ModelFlags, nonNegativeInt, positiveInt } from '../model-flags.js';

interface BenchFlags extends ModelFlags {
  prompt: number;
  gen: number;
  repetitions: number;
  json?: boolean;
}

export interface BenchResult {
  model: string;
  backend: string;
  device: string;
  prompt_tokens: number;
  decode_tokens: number;
  repetitions: number;
  /** Medians over the repetitions. */
  prefill_tokens_per_s: number;
  decode_tokens_per_s: number;
  prefill_runs: number[];
  decode_runs: number[];
}

export function benchCommand(): Command {
  const command = new Command('bench')
    .description('prefill and decode speed, llama-bench style: the medians of r runs, as a table or --json')
    .option('-p, --prompt <n>', 'prompt tokens processed in one forward pass (pp)', nonNegativeInt, 512)
    .option('-n, --gen <n>', 'tokens generated one at a time (tg)', nonNegativeInt, 128)
    .option('-r, --repetitions <n>', 'runs per test (after one warm-up run)', positiveInt, 5)
    .option('--json', 'print one JSON object');
  addModelFlags(command);
  return command.action((flags: BenchFlags) => runBench(flags));
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function stddev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
}

/** Fixed pseudo-random prompt ids (the speed does not depend on them). */
function promptIds(count: number, vocabSize: number): number[] {
  return Array.from({ length: count }, (_, i) => (i * 7919 + 13) % vocabSize);
}

async function runBench(flags: BenchFlags): Promise<void> {
  // The context must hold the longer of the two tests, each of which starts from position 0.
  const needed = Math.max(flags.prompt, flags.gen, 1);
  const loaded = await loadFromFlags({ ...flags, maxSeqLen: flags.maxSeqLen ?? needed, maxBatchSize: 1 });
  try {
    const model = loaded.llama.model;
    const { vocabSize } = model.args;
    const prompt = promptIds(flags.prompt, vocabSize);
    // pp: the whole prompt in one forward pass (logits of the last position, as generation does).
    const prefill = async () => {
      const start = performance.now();
      await model.forward([prompt], 0, { logits: 'last' });
      return flags.prompt / ((performance.now() - start) / 1e3);
    };
    // tg: one token per forward pass, positions 0..n-1, as llama-bench's tg test.
    const decode = async () => {
      const start = performance.now();
      let token = 1 % vocabSize;
      for (let pos = 0; pos < flags.gen; pos++) {
        await model.forward([[token]], pos, { logits: 'last' });
        token = (token * 31 + 7) % vocabSize;
      }
      return flags.gen / ((performance.now() - start) / 1e3);
    };
    const prefillRuns: number[] = [];
    const decodeRuns: number[] = [];
    if (flags.prompt > 0) {
      await prefill(); // warm-up: pipelines, caches
      for (let r = 0; r < flags.repetitions; r++) prefillRuns.push(await prefill());
    }
    if (flags.gen > 0) {
      await decode();
      for (let r = 0; r < flags.repetitions; r++) decodeRuns.push(await decode());
    }
    const result: BenchResult = {
      model: loaded.name,
      backend: loaded.backend.kind,
      device: loaded.backend.description,
      prompt_tokens: flags.prompt,
      decode_tokens: flags.gen,
      repetitions: flags.repetitions,
      prefill_tokens_per_s: median(prefillRuns),
      decode_tokens_per_s: median(decodeRuns),
      prefill_runs: prefillRuns,
      decode_runs: decodeRuns,
    };
    if (flags.json) {
      await out(`${JSON.stringify(result)}\n`);
      return;
    }
    const rows: string[][] = [['model', 'backend', 'test', 't/s (median)', '± sd']];
    if (flags.prompt > 0) {
      rows.push([
        result.model,
        result.backend,
        `pp${flags.prompt}`,
        fmt(result.prefill_tokens_per_s),
        fmt(stddev(prefillRuns)),
      ]);
    }
    if (flags.gen > 0) {
      rows.push([
        result.model,
        result.backend,
        `tg${flags.gen}`,
        fmt(result.decode_tokens_per_s),
        fmt(stddev(decodeRuns)),
      ]);
    }
    await out(`${table(rows)}\n`);
  } finally {
    loaded.dispose();
  }
}

function fmt(value: number): string {
  return value.toFixed(2);
}

/** A Markdown table, as llama-bench prints. */
function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: string[], numericFrom: number) =>
    `| ${row.map((cell, c) => (c >= numericFrom ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (c >= 3 ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(rows[0] ?? [], 3), rule, ...rows.slice(1).map((row) => line(row, 3))].join('\n');
}

/**
 * Training throughput of the `default` preset (or `--preset seed003`): one optimiser step is LlamaTrainer.lossAndGradients
 * on a batch of 12 × 64 random tokens (vocabulary 68), the global gradient norm (sumSquares, read
 * back once) and adamwStep on every parameter, as the training loop does it. Prints per backend
 * ms/step, tokens/s and the GFLOP/s this achieves (estimateTrainingFlops' count per token), beside
 * the kernels' own matmul GFLOP/s at the model's shapes; `--profile` adds the time per op (cpu and wasm:
 * their ops run synchronously at dispatch, so the wall time around each dispatch is the op's).
 *
 * Run: pnpm --filter @llama-ts/training bench [-- --backend cpu|wasm|webgpu] [-- -n 5] [-- --profile]
 * [-- --preset seed003]
 * (tsx resolves the workspace packages to their src/ through the `source` export condition, so a
 * changed kernel is measured without a rebuild).
 */
import { type Backend, createBackend, fromArray, matmul, matmulGradInput, matmulGradWeight } from '@llama-ts/kernels';
import {
  AdamW,
  clipScale,
  estimateTrainingFlops,
  getPreset,
  globalGradNorm,
  initParameters,
  LlamaTrainer,
  presetArgs,
  TrainingRng,
} from '../src/index.js';

const VOCAB = 68;
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const option = (name: string) => (flag(name) ? argv[argv.indexOf(name) + 1] : undefined);
const backendKinds = option('--backend')
  ? [option('--backend') as 'cpu' | 'wasm' | 'webgpu']
  : (['cpu', 'wasm', 'webgpu'] as const);
const steps = Number(option('-n') ?? 5);
const profile = flag('--profile');
if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`-n must be a positive integer, got ${option('-n')}`);

const preset = getPreset(option('--preset') ?? 'default');
const args = presetArgs(preset, VOCAB);
const flops = estimateTrainingFlops(preset, VOCAB);
const { batchSize, seqLen } = preset;
const tokensPerStep = batchSize * seqLen;

/** Random token batches: the throughput does not depend on the text. */
function randomBatch(rng: TrainingRng) {
  const x = new Int32Array(tokensPerStep);
  const y = new Int32Array(tokensPerStep);
  for (let i = 0; i < tokensPerStep; i++) {
    x[i] = rng.int(VOCAB);
    y[i] = rng.int(VOCAB);
  }
  return { x, y, batchSize, seqLen };
}

/** Per op name: total milliseconds and calls, from wrapping backend.dispatch. */
type OpTimes = Map<string, { ms: number; calls: number }>;

function instrument(backend: Backend): OpTimes {
  const times: OpTimes = new Map();
  const dispatch = backend.dispatch.bind(backend);
  backend.dispatch = ((op, inputs, outputs, params) => {
    const start = performance.now();
    dispatch(op, inputs, outputs, params);
    const entry = times.get(op) ?? { ms: 0, calls: 0 };
    entry.ms += performance.now() - start;
    entry.calls++;
    times.set(op, entry);
  }) as Backend['dispatch'];
  return times;
}

async function trainingSteps(backend: Backend, times: OpTimes | undefined) {
  const trainer = new LlamaTrainer(backend, args, initParameters(args, { seed: preset.seed, scheme: preset.init }));
  // The training loop's own optimiser and clipping, so the bench times what `train` runs.
  const adam = new AdamW(backend, trainer.params, preset.optimizer);
  const rng = new TrainingRng(1);
  let lastLoss = 0;
  const step = async () => {
    lastLoss = await trainer.lossAndGradients(randomBatch(rng));
    const gradScale =
      preset.gradClip === null
        ? 1
        : clipScale(await globalGradNorm(backend, trainer.gradients.values()), preset.gradClip);
    adam.update(trainer.gradients, { lr: 1e-3, gradScale });
    await backend.synchronize();
  };
  await step(); // warm-up: JIT, shader compilation, buffer pools
  times?.clear();
  const samples: number[] = [];
  for (let t = 0; t < steps; t++) {
    const start = performance.now();
    await step();
    samples.push(performance.now() - start);
  }
  // Evaluation batches (forward only), for the projected length of a whole run.
  const opsBefore = times && new Map([...times].map(([op, entry]) => [op, { ...entry }]));
  let evalMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await trainer.loss(randomBatch(rng));
    evalMs = Math.min(evalMs, performance.now() - start);
  }
  if (times && opsBefore) for (const [op, entry] of opsBefore) times.set(op, entry); // steps only
  adam.dispose();
  trainer.dispose();
  return { samples, lastLoss, evalMs };
}

/** GFLOP/s of `run` (2·M·N·K FLOPs), the best of a few timed batches after a warm-up. */
async function matmulGflops(backend: Backend, M: number, N: number, K: number, kind: 'y' | 'dX' | 'dW') {
  const rng = new TrainingRng(2);
  const random = (n: number) => Float32Array.from({ length: n }, () => rng.normal(0, 1));
  const x = fromArray(backend, random(M * K), [M, K]);
  const w = fromArray(backend, random(N * K), [N, K]);
  const dY = fromArray(backend, random(M * N), [M, N]);
  const run = () => (kind === 'y' ? matmul(x, w) : kind === 'dX' ? matmulGradInput(dY, w) : matmulGradWeight(dY, x));
  const sample = async (reps: number) => {
    const start = performance.now();
    for (let i = 0; i < reps; i++) run().dispose();
    await backend.synchronize();
    return (performance.now() - start) / 1e3 / reps;
  };
  await sample(1);
  let reps = 1;
  while (reps < 256 && (await sample(reps)) * reps < 0.05) reps *= 2;
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) best = Math.min(best, await sample(reps));
  for (const t of [x, w, dY]) t.dispose();
  return (2 * M * N * K) / best / 1e9;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const fixed = (value: number, digits: number, width: number) => value.toFixed(digits).padStart(width);

console.log(
  `${preset.name} preset: ${flops.parameters.toLocaleString('en')} parameters, ${tokensPerStep} tokens/step, ` +
    `${((flops.trainFlopsPerToken * tokensPerStep) / 1e9).toFixed(2)} GFLOP/step; ${steps} timed steps after 1 warm-up`,
);
const shapes = [
  {
    label: `y  [${tokensPerStep},${args.dim}]·[${args.ffnHiddenDim},${args.dim}]ᵀ`,
    M: tokensPerStep,
    N: args.ffnHiddenDim,
    K: args.dim,
    kind: 'y',
  },
  {
    label: `y  [${tokensPerStep},${args.ffnHiddenDim}]·[${args.dim},${args.ffnHiddenDim}]ᵀ`,
    M: tokensPerStep,
    N: args.dim,
    K: args.ffnHiddenDim,
    kind: 'y',
  },
  {
    label: `dX [${tokensPerStep},${args.ffnHiddenDim}]·[${args.ffnHiddenDim},${args.dim}]`,
    M: tokensPerStep,
    N: args.ffnHiddenDim,
    K: args.dim,
    kind: 'dX',
  },
  {
    label: `dW [${tokensPerStep},${args.ffnHiddenDim}]ᵀ·[${tokensPerStep},${args.dim}]`,
    M: tokensPerStep,
    N: args.ffnHiddenDim,
    K: args.dim,
    kind: 'dW',
  },
] as const;
const rows: string[] = [];
for (const kind of backendKinds) {
  let backend: Backend;
  try {
    backend = await createBackend({ kind, log: null });
  } catch (error) {
    console.log(`${kind}: skipped (${error instanceof Error ? error.message : String(error)})`);
    continue;
  }
  const times = profile && kind !== 'webgpu' ? instrument(backend) : undefined;
  const { samples, lastLoss, evalMs } = await trainingSteps(backend, times);
  // A copy, taken before the matmul measurements below dispatch more ops.
  const opTimes =
    times && [...times].map(([op, entry]) => [op, { ...entry }] as const).sort((a, b) => b[1].ms - a[1].ms);
  const best = Math.min(...samples);
  const tokensPerSecond = tokensPerStep / (best / 1e3);
  const achieved = (flops.trainFlopsPerToken * tokensPerSecond) / 1e9;
  const kernels: number[] = [];
  for (const { M, N, K, kind: op } of shapes) kernels.push(await matmulGflops(backend, M, N, K, op));
  const matmulBest = Math.max(...kernels);
  console.log(
    `\n${kind}: ${backend.description}\n  steps (ms): ${samples.map((s) => s.toFixed(0)).join(' ')}; loss ${lastLoss.toFixed(3)}`,
  );
  const evaluations = Math.floor(preset.steps / preset.evalInterval) + 1;
  const runMinutes = (preset.steps * best + evaluations * 2 * preset.evalBatches * evalMs) / 60e3;
  console.log(
    `  eval batch (forward only): ${evalMs.toFixed(0)} ms; projected ${preset.steps}-step run with ` +
      `${evaluations} evaluations of ${2 * preset.evalBatches} batches: ${runMinutes.toFixed(1)} min`,
  );
  for (const [i, { label }] of shapes.entries()) {
    console.log(`  ${label.padEnd(26)} ${fixed(kernels[i] as number, 2, 6)} GFLOP/s`);
  }
  rows.push(
    `${kind.padEnd(7)}|${fixed(best, 0, 9)} |${fixed(median(samples), 0, 9)} |${fixed(tokensPerSecond, 0, 9)} |` +
      `${fixed(achieved, 2, 9)} |${fixed(matmulBest, 2, 9)} |${fixed(achieved / matmulBest, 2, 6)}`,
  );
  if (opTimes) {
    const total = opTimes.reduce((sum, [, { ms }]) => sum + ms, 0);
    const perStep = samples.reduce((sum, s) => sum + s, 0);
    console.log(`  per op, ms per step (${((100 * total) / perStep).toFixed(0)}% of the step is inside dispatch):`);
    for (const [op, { ms, calls }] of opTimes) {
      const share = ((100 * ms) / total).toFixed(1);
      console.log(`    ${op.padEnd(18)} ${fixed(ms / steps, 1, 8)} ms ${share.padStart(5)}%  ${calls / steps} calls`);
    }
  }
  backend.destroy();
}
console.log(
  '\nbackend| best ms  | median ms| tokens/s | GFLOP/s  | matmul   | ratio\n' +
    '       |  /step   |   /step  |          | (train)  | GFLOP/s  | train/matmul',
);
for (const row of rows) console.log(row);

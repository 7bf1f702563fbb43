import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BackendChoice, createBackend } from '@llama-ts/kernels';
import { META_PARAMS_FILE, ModelError, readRegularText } from '@llama-ts/model';
import {
  inspectOutputDir,
  LOSS_CSV_FILE,
  LOSS_SVG_FILE,
  type PresetOverrides,
  resolvePreset,
  type TrainEvalInfo,
  TrainingError,
  type TrainingPreset,
  type TrainStartInfo,
  train,
  trainingStatePath,
} from '@llama-ts/training';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CliError } from '../errors.js';
import { interruptSignal, out } from '../io.js';
import { positiveInt } from '../model-flags.js';
import { createTrainProgress } from '../progress.js';

interface TrainFlags {
  preset: string;
  presetFile?: string;
  data?: string;
  out?: string;
  steps?: number;
  resume?: boolean;
  overwrite?: boolean;
  backend: BackendChoice;
  threads?: number;
  seed?: number;
  evalInterval?: number;
  checkpointInterval?: number;
}

/** Where --data defaults to: Tiny Shakespeare in the current folder, under the name the recipe uses. */
export const DEFAULT_DATA_FILE = 'tiny_shakespeare.txt';
const TINY_SHAKESPEARE_URL =
  'https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt';

function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('expected an integer');
  return Number(value);
}

export function trainCommand(): Command {
  return new Command('train')
    .description('train a Llama from scratch on a text file with a character tokenizer (Tiny Shakespeare)')
    .option(
      '--preset <name>',
      'default (CPU-sized, ~35 min on 2 cores) or seed003 (the reference recipe, a GPU run)',
      'default',
    )
    .option(
      '--preset-file <file>',
      'a JSON object of preset fields applied over --preset, e.g. {"model":{"dim":64},"batchSize":8}',
    )
    .option('--data <file>', `the training text (default: ./${DEFAULT_DATA_FILE})`)
    .option('--out <dir>', 'checkpoint folder (default: ./train-<preset>)')
    .option(
      '--steps <n>',
      "optimiser steps (a cosine schedule is stretched to them); default: the preset's",
      positiveInt,
    )
    .option('--resume', 'continue the run whose checkpoint is in --out')
    .option('--overwrite', 'start a new run even though --out holds a checkpoint')
    .addOption(
      new Option('--backend <kind>', 'compute backend').choices(['auto', 'webgpu', 'wasm', 'cpu']).default('auto'),
    )
    .option('--threads <n>', 'threads of the wasm backend (default: the available cores)', positiveInt)
    .option('--seed <n>', "random seed for the initial weights and batches; default: the preset's", integer)
    .option('--eval-interval <n>', 'evaluate train and val loss every n steps', positiveInt)
    .option('--checkpoint-interval <n>', 'write a checkpoint every n steps', positiveInt)
    .action((flags: TrainFlags) => runTrain(flags));
}

async function readData(path: string | undefined): Promise<string> {
  if (path === undefined) {
    if (!existsSync(DEFAULT_DATA_FILE)) {
      throw new CliError(
        `no --data given and ./${DEFAULT_DATA_FILE} does not exist: pass --data FILE (UTF-8 text; Tiny Shakespeare is at ${TINY_SHAKESPEARE_URL})`,
      );
    }
    return readRegularText(DEFAULT_DATA_FILE, '--data file');
  }
  if (!existsSync(path)) throw new CliError(`--data ${path} does not exist`);
  return readRegularText(path, '--data file');
}

async function readPresetFile(path: string | undefined): Promise<PresetOverrides> {
  if (path === undefined) return {};
  if (!existsSync(path)) throw new CliError(`--preset-file ${path} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(await readRegularText(path, '--preset-file'));
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new CliError(`--preset-file ${path}: ${(error as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CliError(`--preset-file ${path}: expected a JSON object of preset fields`);
  }
  return json as PresetOverrides;
}

const count = (n: number) => n.toLocaleString('en-US');

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function startLine(info: TrainStartInfo, device: string): string {
  const { preset } = info;
  const from = info.resumed ? `resuming at step ${info.startStep} of ${info.steps}` : `${info.steps} steps`;
  return (
    `training ${preset.name}: ${count(info.parameters)} parameters (dim ${preset.model.dim}, ${preset.model.n_layers} layer${preset.model.n_layers === 1 ? '' : 's'}, vocab ${info.vocabSize}), ` +
    `batch ${preset.batchSize} × seq ${preset.seqLen}, ${from}, on ${device}; ` +
    `${count(info.trainTokens)} train / ${count(info.valTokens)} val tokens`
  );
}

function evalLine(info: TrainEvalInfo): string {
  const width = String(info.steps).length;
  const speed = info.tokensPerSecond > 0 ? `  ${count(Math.round(info.tokensPerSecond))} tok/s` : '';
  return `step ${String(info.step).padStart(width)}/${info.steps}  train ${info.trainLoss.toFixed(4)}  val ${info.valLoss.toFixed(4)}  lr ${info.lr.toExponential(2)}${speed}`;
}

/** The preset as the flags give it: --preset, then --preset-file over it, then the single-field flags. */
async function presetFromFlags(flags: TrainFlags): Promise<TrainingPreset> {
  let preset = resolvePreset(flags.preset);
  if (flags.presetFile !== undefined) {
    const fields = await readPresetFile(flags.presetFile);
    try {
      preset = resolvePreset(preset, fields);
    } catch (error) {
      if (error instanceof TrainingError) throw new CliError(`--preset-file ${flags.presetFile}: ${error.message}`);
      throw error;
    }
  }
  return resolvePreset(preset, {
    ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
    ...(flags.evalInterval !== undefined ? { evalInterval: flags.evalInterval } : {}),
    ...(flags.checkpointInterval !== undefined ? { checkpointInterval: flags.checkpointInterval } : {}),
  });
}

/** The library names its options; here the mistakes a command line makes get the flags' names. */
async function checkOutputDir(dir: string, flags: TrainFlags): Promise<void> {
  if (flags.resume && flags.overwrite) throw new CliError('give --resume or --overwrite, not both');
  if (flags.resume && !existsSync(trainingStatePath(dir))) {
    throw new CliError(
      `--resume: ${dir} holds no training state to continue; train without --resume to start a run there`,
    );
  }
  if (flags.resume) return;
  const found = await inspectOutputDir(dir);
  if (found.kind === 'hugging-face') {
    throw new CliError(
      `--out ${dir} holds a Hugging Face checkpoint (${found.entry}); training there would make it load as another model: choose another --out`,
    );
  }
  if (flags.overwrite || found.kind === 'empty') return;
  if (found.kind === 'own-run' || existsSync(join(dir, META_PARAMS_FILE))) {
    throw new CliError(
      `${dir} already holds a checkpoint: pass --resume to continue its run, --overwrite to replace it, or choose another --out`,
    );
  }
  throw new CliError(
    `--out ${dir} is not empty (${found.entries}) and holds no training run; pass --overwrite to write the run's files (${[META_PARAMS_FILE, 'consolidated.00.pth', 'tokenizer.json', LOSS_CSV_FILE, LOSS_SVG_FILE, 'resume/'].join(', ')}) over it, or choose another --out`,
  );
}

async function runTrain(flags: TrainFlags): Promise<void> {
  const preset = await presetFromFlags(flags);
  const outputDir = resolve(flags.out ?? `train-${preset.name}`);
  await checkOutputDir(outputDir, flags);
  const text = await readData(flags.data);
  const backend = await createBackend({
    kind: flags.backend,
    ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
    log: (message) => process.stderr.write(`${message}\n`),
  });
  const progress = createTrainProgress();
  const interrupt = interruptSignal();
  try {
    const summary = await train({
      backend,
      preset,
      data: text,
      outputDir,
      ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
      ...(flags.resume ? { resume: true } : {}),
      ...(flags.overwrite ? { overwrite: true } : {}),
      signal: interrupt.signal,
      onStart: (info) => {
        progress.log(startLine(info, backend.description));
        progress.start(info.steps, info.startStep);
      },
      onStep: (info) => progress.update(info.step, info),
      onEval: (info) => progress.log(evalLine(info)),
    });
    progress.stop();
    const where = `checkpoint in ${outputDir}, loss curve in ${join(outputDir, LOSS_SVG_FILE)} (and ${LOSS_CSV_FILE})`;
    const losses = `val loss ${summary.finalValLoss.toFixed(4)}, train loss ${summary.finalTrainLoss.toFixed(4)}`;
    if (summary.interrupted) {
      const evaluated = summary.lossLog.records.at(-1)?.step ?? 0;
      await out(
        `interrupted at step ${summary.steps}/${summary.preset.steps} (${losses} at step ${evaluated}); ${where}; continue with --resume\n`,
      );
      process.exitCode = interrupt.exitCode();
      return;
    }
    const speed = `${count(Math.round(summary.tokensPerSecond))} tok/s`;
    await out(`done: ${summary.steps} steps in ${duration(summary.elapsedSeconds)} (${speed}); ${losses}; ${where}\n`);
  } finally {
    progress.stop();
    interrupt.dispose();
    backend.destroy();
  }
}

import { MultiBar, Presets, SingleBar } from 'cli-progress';

export interface LoadProgressBar {
  update(loadedBytes: number, totalBytes: number): void;
  stop(): void;
}

const MB = 1024 * 1024;

/** A bytes progress bar on stderr when it is a terminal; silent otherwise. */
export function createLoadProgress(stream: NodeJS.WriteStream = process.stderr): LoadProgressBar {
  if (!stream.isTTY) return { update() {}, stop() {} };
  let bar: SingleBar | undefined;
  return {
    update(loadedBytes, totalBytes) {
      if (!bar) {
        bar = new SingleBar(
          {
            stream,
            format: 'loading |{bar}| {percentage}% {loaded}/{size} MB',
            hideCursor: true,
            clearOnComplete: true,
          },
          Presets.shades_classic,
        );
        bar.start(totalBytes, 0, { loaded: '0.0', size: (totalBytes / MB).toFixed(1) });
      }
      bar.update(loadedBytes, { loaded: (loadedBytes / MB).toFixed(1) });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

export interface TrainProgressBar {
  start(total: number, value: number): void;
  update(value: number, payload: { loss: number; lr: number; tokensPerSecond: number }): void;
  /** Prints a whole line on stdout, above the bar when one is shown. */
  log(line: string): void;
  stop(): void;
}

/**
 * A training progress bar (step/steps, loss, lr, tokens/s) on stderr when it is a terminal; lines
 * logged while it runs go to stdout, drawn above the bar when stdout is the same terminal.
 */
export function createTrainProgress(
  stream: NodeJS.WriteStream = process.stderr,
  stdout: NodeJS.WriteStream = process.stdout,
): TrainProgressBar {
  const print = (line: string) => {
    stdout.write(`${line}\n`);
  };
  if (!stream.isTTY) return { start() {}, update() {}, log: print, stop() {} };
  let multi: MultiBar | undefined;
  let bar: SingleBar | undefined;
  return {
    start(total, value) {
      multi = new MultiBar(
        {
          stream,
          format: 'train |{bar}| {value}/{total} | loss {loss} | lr {lr} | {tps} tok/s | ETA {eta_formatted}',
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        Presets.shades_classic,
      );
      bar = multi.create(total, value, { loss: '-', lr: '-', tps: '-' });
    },
    update(value, { loss, lr, tokensPerSecond }) {
      bar?.update(value, { loss: loss.toFixed(4), lr: lr.toExponential(2), tps: Math.round(tokensPerSecond) });
    },
    log(line) {
      // Through the bar when both are the terminal, so the line does not land inside the bar.
      if (multi && stdout.isTTY) {
        multi.log(`${line}\n`);
        multi.update();
      } else {
        print(line);
      }
    },
    stop() {
      multi?.stop();
      multi = undefined;
      bar = undefined;
    },
  };
}

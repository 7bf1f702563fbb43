import { Presets, SingleBar } from 'cli-progress';

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

/**
 * One training at a time per output folder: a lock file (`train.lock`, holding the pid) created
 * with O_EXCL before anything in the folder is read or written, removed when the run ends. A lock
 * whose process is gone (a crash, SIGKILL) is taken over.
 */

import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TrainingError } from './errors.js';
import { LOCK_FILE } from './run-folder.js';

export interface RunLock {
  path: string;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `dir`'s lock (creating `dir`), or throws a TrainingError naming the lock and its holder. */
export async function lockRunFolder(dir: string): Promise<RunLock> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      let released = false;
      return {
        path,
        release: async () => {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new TrainingError(`${path}: cannot create the run's lock file: ${(error as Error).message}`);
      }
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && alive(holder)) {
      throw new TrainingError(
        `${path}: another training (pid ${holder}) is writing to ${dir}; wait for it to finish or choose another outputDir`,
      );
    }
    await rm(path, { force: true }); // its process is gone: a stale lock
  }
  throw new TrainingError(`${path}: another training keeps taking the lock of ${dir}; choose another outputDir`);
}

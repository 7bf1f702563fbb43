/**
 * Opening the files a user names (checkpoints, params.json, data): regular files only. A FIFO given
 * as a `.pth` would block `open()` until a writer appears (forever), a directory fails later with an
 * EISDIR that names no file; both are refused up front, naming the path and what it is.
 */

import type { Stats } from 'node:fs';
import { constants, type FileHandle, open } from 'node:fs/promises';
import { ModelError } from '../errors.js';

/** What a non-regular file is, for messages. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory, expected a file';
  if (code === 'EACCES') return 'permission denied';
  return error instanceof Error ? error.message : String(error);
}

/**
 * Opens `path` for reading if it is a regular file, else throws a ModelError naming it (`what`
 * says which file it is meant to be: "checkpoint", "params.json"). O_NONBLOCK makes opening a FIFO
 * return at once, so that it can be seen for what it is (it has no effect on regular files).
 */
export async function openRegularFile(path: string, what: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new ModelError(`${path}: cannot read the ${what}: ${reasonOf(error)}`);
  }
  let stats: Stats;
  try {
    stats = await handle.stat();
  } catch (error) {
    await handle.close();
    throw new ModelError(`${path}: cannot read the ${what}: ${reasonOf(error)}`);
  }
  if (!stats.isFile()) {
    await handle.close();
    throw new ModelError(`${path}: the ${what} is ${kindOf(stats)}, expected a regular file`);
  }
  return handle;
}

/** The UTF-8 text of a regular file (see openRegularFile). */
export async function readRegularText(path: string, what: string): Promise<string> {
  const handle = await openRegularFile(path, what);
  try {
    return await handle.readFile('utf8');
  } catch (error) {
    throw new ModelError(`${path}: cannot read the ${what}: ${reasonOf(error)}`);
  } finally {
    await handle.close();
  }
}

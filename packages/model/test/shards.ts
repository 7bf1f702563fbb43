import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { modelParallelSplit } from '../src/checkpoint/pth.js';
import { type PthTensorToWrite, writePthCheckpoint } from '../src/checkpoint/pth-writer.js';

export /** Splits a whole tensor the way fairscale's model-parallel layers hold it on `ranks` ranks. */
function splitForRank(tensor: PthTensorToWrite, ranks: number, rank: number): PthTensorToWrite {
  const split = modelParallelSplit(tensor.name);
  if (split === 'replicated') return tensor;
  const [rows = 0, cols = 0] = tensor.shape;
  if (split === 0) {
    const start = (tensor.data.length / ranks) * rank;
    return {
      ...tensor,
      shape: [rows / ranks, cols],
      data: tensor.data.slice(start, start + tensor.data.length / ranks),
    };
  }
  if (split === 1) {
    const rowBytes = tensor.data.length / rows;
    const pieceBytes = rowBytes / ranks;
    const data = new Uint8Array(tensor.data.length / ranks);
    for (let row = 0; row < rows; row++) {
      data.set(
        tensor.data.subarray(row * rowBytes + rank * pieceBytes, row * rowBytes + (rank + 1) * pieceBytes),
        row * pieceBytes,
      );
    }
    return { ...tensor, shape: [rows, cols / ranks], data };
  }
  throw new Error(`no split for ${tensor.name}`);
}

/** Writes `tensors` as `ranks` fairscale shards plus params.json into `folder`, as Meta ships 70B. */
export async function writeShardedCheckpoint(
  folder: string,
  tensors: readonly PthTensorToWrite[],
  ranks: number,
  params: unknown,
): Promise<string[]> {
  await writeFile(join(folder, 'params.json'), JSON.stringify(params));
  const paths: string[] = [];
  for (let rank = 0; rank < ranks; rank++) {
    const path = join(folder, `consolidated.${String(rank).padStart(2, '0')}.pth`);
    await writePthCheckpoint(
      path,
      tensors.map((t) => splitForRank(t, ranks, rank)),
    );
    paths.push(path);
  }
  return paths;
}

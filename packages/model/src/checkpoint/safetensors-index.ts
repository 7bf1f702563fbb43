import { isAbsolute, join, normalize } from 'node:path';
import { ModelError } from '../errors.js';
import { exists } from './folder/layout.js';
import { errorText, isPlainObject } from './guards.js';
import { readRegularText } from './regular-file.js';
import type { SafetensorsHeader } from './safetensors-header.js';

/** A sharded safetensors checkpoint's index (`weight_map`: tensor name → shard file), read and checked. */

export interface ShardPlan {
  path: string;
  /** For a sharded checkpoint: the index file and the tensor names it assigns to this shard. */
  index?: { path: string; names: Set<string> };
}

export async function planShardsFromIndex(dir: string, indexPath: string): Promise<ShardPlan[]> {
  const weightMap = await readWeightMap(indexPath);
  const byShard = new Map<string, Set<string>>();
  for (const [tensorName, shardFile] of Object.entries(weightMap)) {
    let names = byShard.get(shardFile);
    if (!names) {
      names = new Set();
      byShard.set(shardFile, names);
    }
    names.add(tensorName);
  }
  const plans: ShardPlan[] = [];
  for (const [shardFile, names] of byShard) {
    const path = join(dir, shardFile);
    if (!(await exists(path))) {
      throw new ModelError(`${indexPath}: lists shard ${shardFile}, but ${path} does not exist`);
    }
    plans.push({ path, index: { path: indexPath, names } });
  }
  return plans;
}

async function readWeightMap(indexPath: string): Promise<Record<string, string>> {
  let json: unknown;
  try {
    json = JSON.parse(await readRegularText(indexPath, 'shard index'));
  } catch (error) {
    if (error instanceof ModelError) throw error;
    throw new ModelError(`${indexPath}: cannot read the shard index as JSON (${errorText(error)})`);
  }
  const weightMap = isPlainObject(json) ? json.weight_map : undefined;
  if (!isPlainObject(weightMap)) {
    throw new ModelError(`${indexPath}: expected an object with a "weight_map" object (tensor name → shard file)`);
  }
  const result: Record<string, string> = {};
  for (const [tensorName, shardFile] of Object.entries(weightMap)) {
    if (typeof shardFile !== 'string' || !isPlainRelativePath(shardFile)) {
      throw new ModelError(
        `${indexPath}: weight_map["${tensorName}"] is ${JSON.stringify(shardFile)}; expected a shard file name inside the checkpoint folder`,
      );
    }
    result[tensorName] = shardFile;
  }
  if (Object.keys(result).length === 0) throw new ModelError(`${indexPath}: "weight_map" lists no tensors`);
  return result;
}

/** The index and the shard headers must agree: a mismatch means a mixed-up or partial download. */
export function checkShardMatchesIndex(header: SafetensorsHeader, expectedNames: Set<string>, indexPath: string): void {
  const stored = new Set(header.entries.map((entry) => entry.name));
  for (const name of expectedNames) {
    if (!stored.has(name)) {
      throw new ModelError(`${header.path}: has no tensor "${name}", which ${indexPath} says is in this shard`);
    }
  }
  for (const name of stored) {
    if (!expectedNames.has(name)) {
      throw new ModelError(`${header.path}: has tensor "${name}", which ${indexPath} does not assign to this shard`);
    }
  }
}

/** Shard names in an index are plain relative paths; refuse ones that would escape the folder. */
function isPlainRelativePath(file: string): boolean {
  if (file === '' || isAbsolute(file)) return false;
  const normalized = normalize(file);
  return normalized !== '..' && !normalized.startsWith('../') && !normalized.startsWith('..\\');
}

import { constants as fsConstants } from 'node:fs';
import { access, type FileHandle, open, readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { ModelError } from '../errors.js';
import { type CheckpointDType, type CheckpointReader, type CheckpointTensor, dtypeBytes } from './types.js';

/**
 * Reader for Hugging Face safetensors checkpoints (single file or sharded with an index), mapping
 * transformers' tensor names to Meta's. Files are read by position, one tensor at a time: real
 * shards are ~5 GB and are never loaded whole.
 *
 * Format: 8-byte little-endian u64 header length N, N bytes of JSON
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }`, then the data; offsets
 * are relative to the first byte after the header.
 */

/**
 * The rows of q_proj/k_proj in a Hugging Face checkpoint are permuted per head (spec §4.9), and this
 * reader keeps them that way, so RoPE must rotate the pairs (x[i], x[i + head_dim/2]).
 */
export const HF_ROPE_LAYOUT = 'half' as const;

export const SAFETENSORS_FILE = 'model.safetensors';
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';

/** Real headers are well under 1 MB; anything bigger means a corrupt length field. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** FileHandle.read takes at most 2³¹−1 bytes per call; a 70B embedding is larger, so read in chunks. */
const MAX_READ_CHUNK = 1 << 30;

const SAFETENSORS_DTYPES: Readonly<Record<string, CheckpointDType>> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };

/** One tensor as the header describes it; `dataStart`/`dataEnd` are absolute positions in the file. */
export interface SafetensorsEntry {
  name: string;
  dtype: CheckpointDType;
  shape: number[];
  dataStart: number;
  dataEnd: number;
}

export interface SafetensorsHeader {
  path: string;
  fileSize: number;
  /** In file order (by data offset). */
  entries: SafetensorsEntry[];
  /** The optional `__metadata__` map (for example `{ format: 'pt' }`). */
  metadata: Record<string, string>;
}

export interface SafetensorsCheckpointTensor extends CheckpointTensor {
  /** The name stored in the file (transformers' name), for messages and debugging. */
  storedName: string;
}

export interface SafetensorsCheckpointReader extends CheckpointReader {
  tensors: SafetensorsCheckpointTensor[];
  /** Always 'half': q/k rows are kept in the Hugging Face layout (see HF_ROPE_LAYOUT). */
  ropeLayout: typeof HF_ROPE_LAYOUT;
}

export interface SafetensorsOpenOptions {
  /**
   * The config's `tie_word_embeddings` (Llama 3.2 1B/3B): when true and the checkpoint has no
   * `lm_head.weight`, `output.weight` reads the embedding's bytes.
   */
  tieWordEmbeddings?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Opening a checkpoint folder

/**
 * Opens `<dir>/model.safetensors.index.json` (sharded) if present, else `<dir>/model.safetensors`.
 * Every header is validated up front; tensor data is read only by `read()`.
 */
export async function openSafetensorsCheckpoint(
  dir: string,
  options: SafetensorsOpenOptions = {},
): Promise<SafetensorsCheckpointReader> {
  const indexPath = join(dir, SAFETENSORS_INDEX_FILE);
  const singlePath = join(dir, SAFETENSORS_FILE);
  let shards: ShardPlan[];
  if (await exists(indexPath)) {
    shards = await planShardsFromIndex(dir, indexPath);
  } else if (await exists(singlePath)) {
    shards = [{ path: singlePath }];
  } else {
    throw new ModelError(
      `${dir}: no Hugging Face checkpoint found: expected ${SAFETENSORS_INDEX_FILE} (sharded) or ${SAFETENSORS_FILE}`,
    );
  }

  const files = new OpenFiles();
  try {
    const tensors: SafetensorsCheckpointTensor[] = [];
    for (const shard of shards) {
      const handle = await files.open(shard.path);
      const header = await readHeaderFrom(handle, shard.path);
      if (shard.index) checkShardMatchesIndex(header, shard.index.names, shard.index.path);
      for (const entry of header.entries) {
        const metaName = metaNameForHF(entry.name, shard.path);
        if (metaName !== undefined) tensors.push(tensorFromEntry(entry, metaName, shard.path, handle, files));
      }
    }
    checkUniqueNames(tensors);
    addTiedOutput(tensors, options, dir);
    return { tensors, ropeLayout: HF_ROPE_LAYOUT, close: () => files.closeAll() };
  } catch (error) {
    await files.closeAll();
    throw error;
  }
}

interface ShardPlan {
  path: string;
  /** For a sharded checkpoint: the index file and the tensor names it assigns to this shard. */
  index?: { path: string; names: Set<string> };
}

async function planShardsFromIndex(dir: string, indexPath: string): Promise<ShardPlan[]> {
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
    json = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (error) {
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
function checkShardMatchesIndex(header: SafetensorsHeader, expectedNames: Set<string>, indexPath: string): void {
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

function checkUniqueNames(tensors: SafetensorsCheckpointTensor[]): void {
  const seen = new Map<string, SafetensorsCheckpointTensor>();
  for (const tensor of tensors) {
    const earlier = seen.get(tensor.name);
    if (earlier) {
      throw new ModelError(
        `${tensor.source}: tensor "${tensor.storedName}" maps to ${tensor.name}, which "${earlier.storedName}" in ${earlier.source} also provides`,
      );
    }
    seen.set(tensor.name, tensor);
  }
}

/**
 * Tied checkpoints (Llama 3.2 1B/3B) store no lm_head; the output projection is the embedding. A
 * checkpoint with lm_head keeps its own even when tied: transformers saves identical bytes then.
 */
function addTiedOutput(tensors: SafetensorsCheckpointTensor[], options: SafetensorsOpenOptions, dir: string): void {
  const embedding = tensors.find((tensor) => tensor.name === 'tok_embeddings.weight');
  const hasOutput = tensors.some((tensor) => tensor.name === 'output.weight');
  if (!embedding || hasOutput) return;
  if (!options.tieWordEmbeddings) {
    throw new ModelError(
      `${dir}: the checkpoint has no lm_head.weight; if config.json says "tie_word_embeddings": true, ` +
        'open it with { tieWordEmbeddings: true } so output.weight reads the embedding',
    );
  }
  tensors.push({ ...embedding, name: 'output.weight', shape: [...embedding.shape] });
}

// ---------------------------------------------------------------------------------------------
// Names

const LAYER_TENSOR_NAMES: Readonly<Record<string, string>> = {
  'self_attn.q_proj.weight': 'attention.wq.weight',
  'self_attn.k_proj.weight': 'attention.wk.weight',
  'self_attn.v_proj.weight': 'attention.wv.weight',
  'self_attn.o_proj.weight': 'attention.wo.weight',
  'mlp.gate_proj.weight': 'feed_forward.w1.weight',
  'mlp.up_proj.weight': 'feed_forward.w3.weight',
  'mlp.down_proj.weight': 'feed_forward.w2.weight',
  'input_layernorm.weight': 'attention_norm.weight',
  'post_attention_layernorm.weight': 'ffn_norm.weight',
};

const TOP_LEVEL_TENSOR_NAMES: Readonly<Record<string, string>> = {
  'model.embed_tokens.weight': 'tok_embeddings.weight',
  'model.norm.weight': 'norm.weight',
  'lm_head.weight': 'output.weight',
};

/** `0` or a number without leading zeros, so each layer has exactly one spelling. */
const LAYER_PREFIX = /^model\.layers\.(0|[1-9][0-9]*)\.(.+)$/;

/**
 * Meta's name for a transformers tensor name; undefined for tensors to skip (old checkpoints store
 * RoPE's `inv_freq`, which is recomputed from the config). Unknown names throw, which is how a
 * non-Llama checkpoint is caught.
 */
export function metaNameForHF(hfName: string, file: string): string | undefined {
  if (Object.hasOwn(TOP_LEVEL_TENSOR_NAMES, hfName)) return TOP_LEVEL_TENSOR_NAMES[hfName];
  const layerMatch = LAYER_PREFIX.exec(hfName);
  if (layerMatch) {
    const [, layer, rest] = layerMatch as unknown as [string, string, string];
    if (rest === 'self_attn.rotary_emb.inv_freq') return undefined;
    if (Object.hasOwn(LAYER_TENSOR_NAMES, rest)) return `layers.${layer}.${LAYER_TENSOR_NAMES[rest]}`;
  }
  throw new ModelError(
    `${file}: unknown tensor "${hfName}"; expected the tensor names of a Hugging Face Llama checkpoint ` +
      '(model.embed_tokens.weight, model.layers.{i}.self_attn.q_proj.weight, …, lm_head.weight)',
  );
}

// ---------------------------------------------------------------------------------------------
// Tensors

function tensorFromEntry(
  entry: SafetensorsEntry,
  metaName: string,
  path: string,
  handle: FileHandle,
  files: OpenFiles,
): SafetensorsCheckpointTensor {
  return {
    name: metaName,
    storedName: entry.name,
    shape: [...entry.shape],
    dtype: entry.dtype,
    byteLength: entry.dataEnd - entry.dataStart,
    source: path,
    read: async () => {
      files.assertOpen(path, entry.name);
      return readExactly(handle, entry.dataStart, entry.dataEnd - entry.dataStart, path, entry.name);
    },
  };
}

/** Reads [position, position + length) or throws naming the file and tensor if the file is short. */
async function readExactly(
  handle: FileHandle,
  position: number,
  length: number,
  path: string,
  tensorName: string,
): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const chunk = Math.min(length - done, MAX_READ_CHUNK);
    const { bytesRead } = await handle.read(bytes, done, chunk, position + done);
    if (bytesRead === 0) {
      throw new ModelError(
        `${path}: truncated while reading tensor "${tensorName}": expected ${length} bytes at offset ${position}, the file ended after ${done}`,
      );
    }
    done += bytesRead;
  }
  return bytes;
}

/** The reader's file handles, so close() releases them all and reads after close fail clearly. */
class OpenFiles {
  private readonly handles = new Map<string, FileHandle>();
  private closed = false;

  async open(path: string): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new ModelError(`${path}: cannot open (${errorText(error)})`);
    }
    this.handles.set(path, handle);
    return handle;
  }

  assertOpen(path: string, tensorName: string): void {
    if (this.closed) throw new ModelError(`${path}: cannot read tensor "${tensorName}": the checkpoint was closed`);
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map((handle) => handle.close()));
  }
}

// ---------------------------------------------------------------------------------------------
// Header

/** Reads and validates one safetensors file's header (without the tensor data). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new ModelError(`${path}: cannot open (${errorText(error)})`);
  }
  try {
    return await readHeaderFrom(handle, path);
  } finally {
    await handle.close();
  }
}

async function readHeaderFrom(handle: FileHandle, path: string): Promise<SafetensorsHeader> {
  const fileSize = (await handle.stat()).size;
  if (fileSize < 8) {
    throw new ModelError(`${path}: ${fileSize} bytes, too short for a safetensors file (8-byte header length first)`);
  }
  const lengthBytes = Buffer.alloc(8);
  await handle.read(lengthBytes, 0, 8, 0);
  const headerLength = lengthBytes.readBigUInt64LE(0);
  if (headerLength > BigInt(MAX_HEADER_BYTES) || headerLength > BigInt(fileSize - 8)) {
    throw new ModelError(
      `${path}: header length ${headerLength} is not plausible: expected at most ${Math.min(MAX_HEADER_BYTES, fileSize - 8)} ` +
        `bytes (file size ${fileSize}); not a safetensors file, or truncated`,
    );
  }
  const headerBytes = Buffer.alloc(Number(headerLength));
  await handle.read(headerBytes, 0, headerBytes.length, 8);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new ModelError(`${path}: the safetensors header is not valid UTF-8 JSON (${errorText(error)})`);
  }
  return parseHeaderJson(json, path, fileSize, 8 + headerBytes.length);
}

function parseHeaderJson(json: unknown, path: string, fileSize: number, dataBase: number): SafetensorsHeader {
  if (!isPlainObject(json)) throw new ModelError(`${path}: the safetensors header must be a JSON object`);
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value, path);
    } else {
      entries.push(parseEntry(name, value, path, fileSize, dataBase));
    }
  }
  entries.sort((a, b) => a.dataStart - b.dataStart || a.dataEnd - b.dataEnd);
  checkNoOverlaps(entries, path);
  return { path, fileSize, entries, metadata };
}

function parseMetadata(value: unknown, path: string): Record<string, string> {
  if (!isPlainObject(value)) throw new ModelError(`${path}: "__metadata__" must be an object of strings`);
  const metadata: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') {
      throw new ModelError(`${path}: "__metadata__"."${key}" must be a string, got ${typeof item}`);
    }
    metadata[key] = item;
  }
  return metadata;
}

function parseEntry(name: string, value: unknown, path: string, fileSize: number, dataBase: number): SafetensorsEntry {
  const where = `${path}: tensor "${name}"`;
  if (!isPlainObject(value)) throw new ModelError(`${where}: expected { dtype, shape, data_offsets }`);

  const storedDType = value.dtype;
  const dtype =
    typeof storedDType === 'string' && Object.hasOwn(SAFETENSORS_DTYPES, storedDType)
      ? SAFETENSORS_DTYPES[storedDType]
      : undefined;
  if (dtype === undefined) {
    throw new ModelError(
      `${where}: dtype ${JSON.stringify(storedDType)} is not supported; expected one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`,
    );
  }

  const shape = value.shape;
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw new ModelError(`${where}: shape ${JSON.stringify(shape)} must be an array of non-negative integers`);
  }

  const offsets = value.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    throw new ModelError(
      `${where}: data_offsets ${JSON.stringify(offsets)} must be [begin, end], non-negative integers`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const expectedBytes = shape.reduce((product: number, size: number) => product * size, 1) * dtypeBytes(dtype);
  if (!Number.isSafeInteger(expectedBytes) || end < begin || end - begin !== expectedBytes) {
    throw new ModelError(
      `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but shape [${shape.join(', ')}] of ${storedDType} needs ${expectedBytes}`,
    );
  }
  if (dataBase + end > fileSize) {
    throw new ModelError(
      `${where}: data ends at byte ${dataBase + end}, past the end of the file (${fileSize} bytes); the file is truncated or the header is wrong`,
    );
  }
  return { name, dtype, shape: shape as number[], dataStart: dataBase + begin, dataEnd: dataBase + end };
}

/** `entries` sorted by start; zero-length tensors occupy no bytes and overlap nothing. */
function checkNoOverlaps(entries: SafetensorsEntry[], path: string): void {
  let previous: SafetensorsEntry | undefined;
  for (const entry of entries) {
    if (entry.dataEnd === entry.dataStart) continue;
    if (previous && entry.dataStart < previous.dataEnd) {
      throw new ModelError(`${path}: tensors "${previous.name}" and "${entry.name}" overlap in the data section`);
    }
    previous = entry;
  }
}

// ---------------------------------------------------------------------------------------------
// Optional conversion to Meta's q/k row order

/**
 * Undoes transformers' per-head row permutation of q_proj/k_proj (spec §4.9), for callers that want
 * Meta's layout and interleaved RoPE: `meta_row[2i + h] = hf_row[h·d/2 + i]` within each head, d =
 * rows / heads. `data` is a row-major [rows, cols] matrix with `elementBytes` bytes per value.
 */
export function unpermuteHFRows(
  data: Uint8Array,
  rows: number,
  cols: number,
  heads: number,
  elementBytes: number,
): Uint8Array {
  for (const [label, value] of [
    ['rows', rows],
    ['cols', cols],
    ['heads', heads],
    ['elementBytes', elementBytes],
  ] as const) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new ModelError(`unpermuteHFRows: ${label} must be a positive integer, got ${value}`);
    }
  }
  const headDim = rows / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new ModelError(`unpermuteHFRows: rows (${rows}) must be heads (${heads}) × an even head dimension`);
  }
  const rowBytes = cols * elementBytes;
  if (data.byteLength !== rows * rowBytes) {
    throw new ModelError(
      `unpermuteHFRows: expected ${rows}×${cols}×${elementBytes} = ${rows * rowBytes} bytes, got ${data.byteLength}`,
    );
  }
  const half = headDim / 2;
  const out = new Uint8Array(data.byteLength);
  for (let head = 0; head < heads; head++) {
    const base = head * headDim;
    for (let i = 0; i < half; i++) {
      for (let h = 0; h < 2; h++) {
        const hfRow = base + h * half + i;
        const metaRow = base + 2 * i + h;
        out.set(data.subarray(hfRow * rowBytes, (hfRow + 1) * rowBytes), metaRow * rowBytes);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Shard names in an index are plain relative paths; refuse ones that would escape the folder. */
function isPlainRelativePath(file: string): boolean {
  if (file === '' || isAbsolute(file)) return false;
  const normalized = normalize(file);
  return normalized !== '..' && !normalized.startsWith('../') && !normalized.startsWith('..\\');
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

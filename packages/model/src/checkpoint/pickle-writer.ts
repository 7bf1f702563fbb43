/**
 * The `data.pkl` of a torch checkpoint: a protocol-2 pickle with the same opcodes and memo numbering
 * Python's pickler emits for torch's reduction of a state dict.
 */

import { contiguousStrides } from './pickle.js';
import type { CheckpointDType } from './types.js';

/** One tensor as the pickle refers to it: its bytes are the archive entry `data/<storageKey>`. */
export interface PickledTensorRef {
  name: string;
  shape: number[];
  dtype: CheckpointDType;
  storageKey: string;
}

const STORAGE_CLASSES: Record<CheckpointDType, string> = {
  bf16: 'BFloat16Storage',
  f16: 'HalfStorage',
  f32: 'FloatStorage',
};

/** Python's pickler writes a dict's items in batches of this many (`Pickler._BATCHSIZE`). */
const PICKLE_BATCH_SIZE = 1000;

/** The `data.pkl` of `torch.save(OrderedDict(name → tensor))`, byte for byte as torch writes it. */
export function pickleStateDict(tensors: readonly PickledTensorRef[]): Uint8Array {
  const out = new PickleEmitter();
  out.byte(0x80, 2); // PROTO 2
  out.global('collections', 'OrderedDict');
  out.byte(0x29); // EMPTY_TUPLE
  out.byte(0x52); // REDUCE
  out.put();
  for (let start = 0; start < tensors.length; start += PICKLE_BATCH_SIZE) {
    const batch = tensors.slice(start, start + PICKLE_BATCH_SIZE);
    if (batch.length > 1) out.byte(0x28); // MARK
    for (const tensor of batch) {
      out.unicode(tensor.name);
      out.put();
      emitTensor(out, tensor);
    }
    out.byte(batch.length > 1 ? 0x75 : 0x73); // SETITEMS : SETITEM
  }
  out.byte(0x2e); // STOP
  return out.bytes();
}

/** `torch._utils._rebuild_tensor_v2((storage pid), offset, size, stride, False, OrderedDict())`. */
function emitTensor(out: PickleEmitter, tensor: PickledTensorRef): void {
  const numel = tensor.shape.reduce((product, size) => product * size, 1);
  out.global('torch._utils', '_rebuild_tensor_v2');
  out.byte(0x28); // MARK: the argument tuple
  out.byte(0x28); // MARK: the persistent id tuple
  out.sharedUnicode('storage');
  out.global('torch', STORAGE_CLASSES[tensor.dtype]);
  out.unicode(tensor.storageKey);
  out.put();
  out.sharedUnicode('cpu');
  out.int(numel);
  out.byte(0x74); // TUPLE
  out.put();
  out.byte(0x51); // BINPERSID
  out.int(0); // storage offset
  out.intTuple(tensor.shape);
  out.intTuple(contiguousStrides(tensor.shape));
  out.byte(0x89); // NEWFALSE: requires_grad
  out.global('collections', 'OrderedDict'); // backward hooks: OrderedDict()
  out.byte(0x29); // EMPTY_TUPLE
  out.byte(0x52); // REDUCE
  out.put();
  out.byte(0x74); // TUPLE
  out.put();
  out.byte(0x52); // REDUCE
  out.put();
}

/**
 * Emits opcodes and numbers the memo as Python does: every object saved once is memoized (BINPUT);
 * saving the same object again (a global, or the interned strings 'storage' and 'cpu') is a BINGET.
 */
class PickleEmitter {
  private readonly chunks: number[] = [];
  private readonly memoOf = new Map<string, number>();
  private memoCount = 0;

  byte(...values: number[]): void {
    this.chunks.push(...values);
  }

  /** BINPUT (LONG_BINPUT past 255) of the value just written; returns its memo index. */
  put(): number {
    const index = this.memoCount++;
    if (index < 256) this.byte(0x71, index);
    else this.byte(0x72, ...le(index, 4));
    return index;
  }

  private get(index: number): void {
    if (index < 256) this.byte(0x68, index);
    else this.byte(0x6a, ...le(index, 4));
  }

  private memoized(key: string, write: () => void): void {
    const index = this.memoOf.get(key);
    if (index !== undefined) {
      this.get(index);
      return;
    }
    write();
    this.memoOf.set(key, this.put());
  }

  global(module: string, name: string): void {
    this.memoized(`global ${module} ${name}`, () => {
      this.byte(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
    });
  }

  /** A string object torch reuses for every tensor, so Python memoizes it once. */
  sharedUnicode(text: string): void {
    this.memoized(`str ${text}`, () => this.unicode(text));
  }

  /** BINUNICODE (protocol 2 has no short form); the caller memoizes it. */
  unicode(text: string): void {
    const encoded = new TextEncoder().encode(text);
    this.byte(0x58, ...le(encoded.length, 4), ...encoded);
  }

  /** Python's `save_long` for protocol 2: the smallest of BININT1, BININT2, BININT, LONG1. */
  int(value: number): void {
    if (value >= 0 && value <= 0xff) this.byte(0x4b, value);
    else if (value >= 0 && value <= 0xffff) this.byte(0x4d, ...le(value, 2));
    else if (value >= -0x80000000 && value <= 0x7fffffff) this.byte(0x4a, ...le(value >>> 0, 4));
    else {
      const encoded = encodeLong(value);
      this.byte(0x8a, encoded.length, ...encoded);
    }
  }

  /** A tuple of ints; the empty tuple is a shared constant Python does not memoize. */
  intTuple(values: readonly number[]): void {
    if (values.length === 0) {
      this.byte(0x29);
      return;
    }
    if (values.length > 3) this.byte(0x28); // MARK
    for (const value of values) this.int(value);
    this.byte(values.length > 3 ? 0x74 : ([0x85, 0x86, 0x87][values.length - 1] ?? 0x74));
    this.put();
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** `value` as `count` little-endian bytes (unsigned). */
function le(value: number, count: number): number[] {
  const out: number[] = [];
  let rest = BigInt(value);
  for (let i = 0; i < count; i++) {
    out.push(Number(rest & 0xffn));
    rest >>= 8n;
  }
  return out;
}

/** Python's `pickle.encode_long`: minimal two's-complement little-endian bytes. */
function encodeLong(value: number): number[] {
  const big = BigInt(value);
  let count = 1;
  while (big >= 1n << BigInt(8 * count - 1) || big < -(1n << BigInt(8 * count - 1))) count++;
  const unsigned = big < 0n ? big + (1n << BigInt(8 * count)) : big;
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(Number((unsigned >> BigInt(8 * i)) & 0xffn));
  return out;
}

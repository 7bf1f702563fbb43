/**
 * A restricted unpickler for the `data.pkl` that `torch.save(state_dict)` writes.
 *
 * Python's pickle is a small stack machine whose GLOBAL and REDUCE opcodes import and call any
 * function: unpickling an untrusted checkpoint with Python runs whatever it names (`os.system`...).
 * This machine never calls anything. It knows the few opcodes a state dict uses, resolves GLOBAL
 * against an allow-list of five names (refusing every other one the moment it is read, before any
 * REDUCE), and interprets REDUCE only as "describe a tensor" or "make an empty OrderedDict". What
 * comes out is plain data: for each tensor, where its bytes are and how they are laid out.
 */

import { ModelError } from '../errors.js';
import type { CheckpointDType } from './types.js';

/** One tensor of the state dict, as the pickle describes it (the bytes live in `data/<storageKey>`). */
export interface PickledTensor {
  name: string;
  /** The persistent id's key: the storage's bytes are the archive entry `data/<storageKey>`. */
  storageKey: string;
  /** From the storage class (`torch BFloat16Storage` → bf16). */
  dtype: CheckpointDType;
  /** Elements in the whole storage (several tensors may share one storage). */
  storageNumel: number;
  /** First element of this tensor in its storage, in elements (not bytes). */
  storageOffset: number;
  shape: number[];
  stride: number[];
}

/** Storage classes a state dict may use, and the element type each one holds. */
const STORAGE_DTYPES: ReadonlyMap<string, CheckpointDType> = new Map([
  ['torch.BFloat16Storage', 'bf16'],
  ['torch.HalfStorage', 'f16'],
  ['torch.FloatStorage', 'f32'],
]);

const ORDERED_DICT = 'collections.OrderedDict';
const REBUILD_TENSOR_V2 = 'torch._utils._rebuild_tensor_v2';

/** Every global a state dict may name; anything else (`os.system`, `builtins.eval`...) is refused. */
const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([ORDERED_DICT, REBUILD_TENSOR_V2, ...STORAGE_DTYPES.keys()]);

/** The values this machine can hold on its stack: data only, never anything callable. */
type PickleValue =
  | null
  | boolean
  | number
  | string
  | { kind: 'global'; qualifiedName: string }
  | { kind: 'tuple'; items: PickleValue[] }
  | { kind: 'list'; items: PickleValue[] }
  | { kind: 'dict'; entries: Map<string, PickleValue> }
  | { kind: 'storage'; key: string; dtype: CheckpointDType; numel: number }
  | { kind: 'tensor'; tensor: Omit<PickledTensor, 'name'> };

/** Opcodes (one byte each) that torch.save's protocol-2 pickle of a state dict uses, plus protocol 4's framing. */
const OP = {
  PROTO: 0x80,
  FRAME: 0x95,
  STOP: 0x2e, // .
  MARK: 0x28, // (
  GLOBAL: 0x63, // c
  STACK_GLOBAL: 0x93,
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  MEMOIZE: 0x94,
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  EMPTY_TUPLE: 0x29, // )
  TUPLE: 0x74, // t
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_LIST: 0x5d, // ]
  APPEND: 0x61, // a
  APPENDS: 0x65, // e
  EMPTY_DICT: 0x7d, // }
  SETITEM: 0x73, // s
  SETITEMS: 0x75, // u
  BINUNICODE: 0x58, // X
  SHORT_BINUNICODE: 0x8c,
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  LONG1: 0x8a,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  NONE: 0x4e, // N
  BINFLOAT: 0x47, // G
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  BUILD: 0x62, // b
} as const;

/** Names of opcodes this machine refuses, so the error says what the pickle tried to do. */
const REFUSED_OPCODE_NAMES: ReadonlyMap<number, string> = new Map([
  [0x69, 'INST (creates an instance of any class)'],
  [0x6f, 'OBJ (creates an instance of any class)'],
  [0x81, 'NEWOBJ (creates an instance of any class)'],
  [0x92, 'NEWOBJ_EX (creates an instance of any class)'],
  [0x50, 'PERSID'],
  [0x82, 'EXT1 (extension registry)'],
  [0x83, 'EXT2 (extension registry)'],
  [0x84, 'EXT4 (extension registry)'],
]);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bounds on the work and memory one pickle may cost, whatever counts the file claims. A state dict
 * needs about 30 opcodes, 5 memo entries and a stack of a dozen values per tensor, and nests a few
 * levels deep: Llama 3 405B's 1,137 tensors need about 35,000 opcodes. These limits are 50 times
 * that and more, and keep a hostile pickle (150 M no-op opcodes, a memo of millions of entries, a
 * mark or stack pushed millions of times) to a few hundred MB and a second, with one line naming
 * the file and the limit, instead of exhausting V8's heap or its Map and Array size limits.
 */
export const PICKLE_LIMITS: PickleLimits = {
  /** Opcodes read before STOP. */
  opcodes: 2_000_000,
  /** Entries in the memo (BINPUT, LONG_BINPUT, MEMOIZE). */
  memoEntries: 1_000_000,
  /** Values on the stack at once. */
  stackValues: 1_000_000,
  /** Open MARKs at once (nesting depth). */
  markDepth: 1_000,
  /** Items in one tuple, list or dict. */
  containerItems: 1_000_000,
};

export interface PickleLimits {
  opcodes: number;
  memoEntries: number;
  stackValues: number;
  markDepth: number;
  containerItems: number;
}

const count = (n: number): string => n.toLocaleString('en-US');

/**
 * Reads the tensors a `torch.save` pickle describes, in the pickle's order.
 * `source` names the file in every error (e.g. `/ckpt/consolidated.00.pth`).
 */
export function unpickleStateDict(
  bytes: Uint8Array,
  source: string,
  limits: PickleLimits = PICKLE_LIMITS,
): PickledTensor[] {
  const root = new RestrictedUnpickler(bytes, source, limits).run();
  if (typeof root !== 'object' || root === null || root.kind !== 'dict') {
    throw new ModelError(
      `${source}: the checkpoint's pickle holds ${describe(root)}, expected a state dict (an OrderedDict of tensors)`,
    );
  }
  const tensors: PickledTensor[] = [];
  for (const [name, value] of root.entries) {
    if (typeof value !== 'object' || value === null || value.kind !== 'tensor') {
      throw new ModelError(`${source}: state dict entry "${name}" is ${describe(value)}, expected a tensor`);
    }
    tensors.push(checkLayout({ name, ...value.tensor }, source));
  }
  return tensors;
}

/** A tensor must be one row-major block inside its storage: that is what `read()` returns. */
function checkLayout(tensor: PickledTensor, source: string): PickledTensor {
  const { name, shape, stride, storageOffset, storageNumel } = tensor;
  if (!isContiguous(shape, stride)) {
    throw new ModelError(
      `${source}: tensor ${name} has strides [${stride.join(', ')}] for shape [${shape.join(', ')}], expected the ` +
        `contiguous row-major strides [${contiguousStrides(shape).join(', ')}] (save it after .contiguous())`,
    );
  }
  const numel = shape.reduce((product, size) => product * size, 1);
  if (storageOffset + numel > storageNumel) {
    throw new ModelError(
      `${source}: tensor ${name} needs elements ${storageOffset} to ${storageOffset + numel} of storage ` +
        `${tensor.storageKey}, which holds only ${storageNumel}`,
    );
  }
  return tensor;
}

class RestrictedUnpickler {
  private readonly view: DataView;
  private pos = 0;
  private stack: PickleValue[] = [];
  /** Stack heights saved by MARK; the items above the top one belong to the next TUPLE/SETITEMS/APPENDS. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
    private readonly limits: PickleLimits,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  run(): PickleValue {
    for (let opcodes = 1; ; opcodes++) {
      const opcodeOffset = this.pos;
      if (opcodes > this.limits.opcodes) {
        throw this.limit(opcodeOffset, `more than ${count(this.limits.opcodes)} opcodes`);
      }
      const opcode = this.readUint8('an opcode');
      if (opcode === OP.STOP) {
        if (this.stack.length !== 1 || this.marks.length !== 0) {
          throw this.error(opcodeOffset, `STOP with ${this.stack.length} values on the stack, expected exactly one`);
        }
        return this.pop(opcodeOffset);
      }
      this.step(opcode, opcodeOffset);
      this.checkBounds(opcodeOffset);
    }
  }

  /** After each opcode: the stack, the marks and the memo stay within this.limits. */
  private checkBounds(at: number): void {
    if (this.stack.length > this.limits.stackValues) {
      throw this.limit(at, `more than ${count(this.limits.stackValues)} values on the stack`);
    }
    if (this.marks.length > this.limits.markDepth) {
      throw this.limit(at, `more than ${count(this.limits.markDepth)} nested MARKs`);
    }
    if (this.memo.size > this.limits.memoEntries) {
      throw this.limit(at, `more than ${count(this.limits.memoEntries)} memo entries`);
    }
  }

  /** A container may not outgrow this.limits.containerItems. */
  private checkContainer(size: number, what: string, at: number): void {
    if (size > this.limits.containerItems) {
      throw this.limit(at, `a ${what} of more than ${count(this.limits.containerItems)} items`);
    }
  }

  private limit(at: number, exceeded: string): ModelError {
    return new ModelError(
      `${this.source}: the checkpoint's pickle (data.pkl) at byte ${at} has ${exceeded}, past the limit for a ` +
        'state dict; the file is corrupt or hostile (refused before it could exhaust memory)',
    );
  }

  private step(opcode: number, at: number): void {
    switch (opcode) {
      case OP.PROTO: {
        const protocol = this.readUint8('the protocol number');
        if (protocol < 2 || protocol > 5) throw this.error(at, `pickle protocol ${protocol}, expected 2 to 5`);
        return;
      }
      case OP.FRAME:
        // Protocol 4 framing only tells a streaming reader how much to buffer; the opcodes inside are read as usual.
        this.readUint64('the frame length');
        return;
      case OP.MARK:
        this.marks.push(this.stack.length);
        return;
      case OP.GLOBAL: {
        const module = this.readLine('the GLOBAL module name');
        const name = this.readLine('the GLOBAL attribute name');
        this.stack.push(this.resolveGlobal(module, name));
        return;
      }
      case OP.STACK_GLOBAL: {
        const name = this.pop(at);
        const module = this.pop(at);
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw this.error(at, 'STACK_GLOBAL needs a module name and an attribute name (strings)');
        }
        this.stack.push(this.resolveGlobal(module, name));
        return;
      }
      case OP.BINPUT:
        this.memo.set(this.readUint8('the memo index'), this.top(at));
        return;
      case OP.LONG_BINPUT:
        this.memo.set(this.readUint32('the memo index'), this.top(at));
        return;
      case OP.MEMOIZE:
        this.memo.set(this.memo.size, this.top(at));
        return;
      case OP.BINGET:
        this.stack.push(this.memoGet(this.readUint8('the memo index'), at));
        return;
      case OP.LONG_BINGET:
        this.stack.push(this.memoGet(this.readUint32('the memo index'), at));
        return;
      case OP.EMPTY_TUPLE:
        this.stack.push({ kind: 'tuple', items: [] });
        return;
      case OP.TUPLE: {
        const items = this.popToMark(at);
        this.checkContainer(items.length, 'tuple', at);
        this.stack.push({ kind: 'tuple', items });
        return;
      }
      case OP.TUPLE1:
      case OP.TUPLE2:
      case OP.TUPLE3: {
        const count = opcode - OP.TUPLE1 + 1;
        if (this.stack.length - this.markFloor() < count) throw this.error(at, `TUPLE${count} with too few values`);
        this.stack.push({ kind: 'tuple', items: this.stack.splice(this.stack.length - count, count) });
        return;
      }
      case OP.EMPTY_LIST:
        this.stack.push({ kind: 'list', items: [] });
        return;
      case OP.APPEND: {
        const item = this.pop(at);
        const list = this.listAt(this.top(at), at);
        this.checkContainer(list.length + 1, 'list', at);
        list.push(item);
        return;
      }
      case OP.APPENDS: {
        const items = this.popToMark(at);
        const list = this.listAt(this.top(at), at);
        this.checkContainer(list.length + items.length, 'list', at);
        for (const item of items) list.push(item);
        return;
      }
      case OP.EMPTY_DICT:
        this.stack.push({ kind: 'dict', entries: new Map() });
        return;
      case OP.SETITEM: {
        const value = this.pop(at);
        const key = this.pop(at);
        this.setItem(this.top(at), key, value, at);
        return;
      }
      case OP.SETITEMS: {
        const items = this.popToMark(at);
        if (items.length % 2 !== 0) throw this.error(at, 'SETITEMS with an odd number of values (keys without values)');
        const dict = this.top(at);
        for (let i = 0; i < items.length; i += 2) this.setItem(dict, items[i] ?? null, items[i + 1] ?? null, at);
        return;
      }
      case OP.BINUNICODE:
        this.stack.push(this.readString(this.readUint32('a string length')));
        return;
      case OP.SHORT_BINUNICODE:
        this.stack.push(this.readString(this.readUint8('a string length')));
        return;
      case OP.BININT:
        this.stack.push(this.readSigned(4, 'a BININT'));
        return;
      case OP.BININT1:
        this.stack.push(this.readUint8('a BININT1'));
        return;
      case OP.BININT2:
        this.stack.push(this.readSigned(2, 'a BININT2', false));
        return;
      case OP.LONG1: {
        const length = this.readUint8('the LONG1 length');
        this.stack.push(length === 0 ? 0 : this.readSigned(length, 'a LONG1'));
        return;
      }
      case OP.NEWTRUE:
        this.stack.push(true);
        return;
      case OP.NEWFALSE:
        this.stack.push(false);
        return;
      case OP.NONE:
        this.stack.push(null);
        return;
      case OP.BINFLOAT: {
        this.need(8, 'a BINFLOAT');
        this.stack.push(this.view.getFloat64(this.pos, false));
        this.pos += 8;
        return;
      }
      case OP.BINPERSID:
        this.stack.push(this.persistentLoad(this.pop(at), at));
        return;
      case OP.REDUCE: {
        const args = this.pop(at);
        const callable = this.pop(at);
        this.stack.push(this.reduce(callable, args, at));
        return;
      }
      case OP.BUILD: {
        // A state dict's OrderedDict may carry `_metadata` (module versions) as instance state. It is
        // data we do not need; keep the dict as it is and drop the state.
        const state = this.pop(at);
        const target = this.top(at);
        if (typeof target !== 'object' || target === null || target.kind !== 'dict') {
          throw this.error(at, `BUILD on ${describe(target)}, expected the state dict`);
        }
        if (state !== null && (typeof state !== 'object' || (state.kind !== 'dict' && state.kind !== 'tuple'))) {
          throw this.error(at, `BUILD with state ${describe(state)}, expected a dict`);
        }
        return;
      }
      default: {
        const known = REFUSED_OPCODE_NAMES.get(opcode);
        throw this.error(
          at,
          `opcode 0x${opcode.toString(16).padStart(2, '0')}${known ? ` ${known}` : ''} is not allowed in a state dict ` +
            '(only the opcodes torch.save writes for tensors are read)',
        );
      }
    }
  }

  /** The safety gate: a name outside the allow-list stops loading here, before anything could call it. */
  private resolveGlobal(module: string, name: string): PickleValue {
    const qualifiedName = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(qualifiedName)) {
      throw new ModelError(
        `${this.source}: the checkpoint's pickle refers to ${qualifiedName}, which is not allowed in a state dict ` +
          '(loading never runs code from a checkpoint)',
      );
    }
    return { kind: 'global', qualifiedName };
  }

  /** BINPERSID's id is torch's storage reference: ('storage', StorageClass, key, location, numel). */
  private persistentLoad(pid: PickleValue, at: number): PickleValue {
    const items = typeof pid === 'object' && pid !== null && pid.kind === 'tuple' ? pid.items : undefined;
    const [tag, storageClass, key, _location, numel] = items ?? [];
    const dtype =
      typeof storageClass === 'object' && storageClass !== null && storageClass.kind === 'global'
        ? STORAGE_DTYPES.get(storageClass.qualifiedName)
        : undefined;
    if (items?.length !== 5 || tag !== 'storage' || dtype === undefined || typeof key !== 'string' || !isCount(numel)) {
      throw this.error(
        at,
        `persistent id ${describe(pid)}, expected ('storage', torch.BFloat16Storage/HalfStorage/FloatStorage, key, location, numel)`,
      );
    }
    return { kind: 'storage', key, dtype, numel };
  }

  /** REDUCE only ever builds an empty OrderedDict or a tensor description; nothing is called. */
  private reduce(callable: PickleValue, args: PickleValue, at: number): PickleValue {
    const name =
      typeof callable === 'object' && callable !== null && callable.kind === 'global' ? callable.qualifiedName : '';
    if (typeof args !== 'object' || args === null || args.kind !== 'tuple') {
      throw this.error(
        at,
        `REDUCE of ${name || describe(callable)} with ${describe(args)}, expected an argument tuple`,
      );
    }
    if (name === ORDERED_DICT) {
      if (args.items.length !== 0) throw this.error(at, 'OrderedDict(...) with arguments, expected OrderedDict()');
      return { kind: 'dict', entries: new Map() };
    }
    if (name === REBUILD_TENSOR_V2) return { kind: 'tensor', tensor: this.rebuildTensor(args.items, at) };
    throw this.error(at, `REDUCE of ${name || describe(callable)}, expected OrderedDict or _rebuild_tensor_v2`);
  }

  /** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
  private rebuildTensor(args: PickleValue[], at: number): Omit<PickledTensor, 'name'> {
    const [storage, storageOffset, size, stride] = args;
    if (
      args.length < 6 ||
      args.length > 7 ||
      typeof storage !== 'object' ||
      storage === null ||
      storage.kind !== 'storage' ||
      !isCount(storageOffset)
    ) {
      throw this.error(
        at,
        '_rebuild_tensor_v2 arguments, expected (storage, offset, size, stride, requires_grad, hooks)',
      );
    }
    const shape = countTuple(size);
    const strides = countTuple(stride);
    if (!shape || !strides || shape.length !== strides.length) {
      throw this.error(
        at,
        `tensor size ${describe(size)} and stride ${describe(stride)}, expected two int tuples of one length`,
      );
    }
    return {
      storageKey: storage.key,
      dtype: storage.dtype,
      storageNumel: storage.numel,
      storageOffset,
      shape,
      stride: strides,
    };
  }

  private setItem(target: PickleValue, key: PickleValue, value: PickleValue, at: number): void {
    if (typeof target !== 'object' || target === null || target.kind !== 'dict') {
      throw this.error(at, `SETITEM on ${describe(target)}, expected a dict`);
    }
    if (typeof key !== 'string') throw this.error(at, `dict key ${describe(key)}, expected a string`);
    if (target.entries.has(key)) throw this.error(at, `the key "${key}" appears twice`);
    this.checkContainer(target.entries.size + 1, 'dict', at);
    target.entries.set(key, value);
  }

  private listAt(target: PickleValue, at: number): PickleValue[] {
    if (typeof target !== 'object' || target === null || target.kind !== 'list') {
      throw this.error(at, `APPEND on ${describe(target)}, expected a list`);
    }
    return target.items;
  }

  private memoGet(index: number, at: number): PickleValue {
    const value = this.memo.get(index);
    if (value === undefined) throw this.error(at, `memo entry ${index} is read before it is written`);
    return value;
  }

  private markFloor(): number {
    return this.marks.at(-1) ?? 0;
  }

  private popToMark(at: number): PickleValue[] {
    const mark = this.marks.pop();
    if (mark === undefined) throw this.error(at, 'an opcode that needs a MARK, but there is none');
    return this.stack.splice(mark);
  }

  private pop(at: number): PickleValue {
    if (this.stack.length <= this.markFloor())
      throw this.error(at, 'an opcode that needs a value, but the stack is empty');
    return this.stack.pop() ?? null;
  }

  private top(at: number): PickleValue {
    if (this.stack.length <= this.markFloor())
      throw this.error(at, 'an opcode that needs a value, but the stack is empty');
    return this.stack[this.stack.length - 1] ?? null;
  }

  private need(count: number, what: string): void {
    if (this.pos + count > this.bytes.length) {
      throw new ModelError(
        `${this.source}: the checkpoint's pickle (data.pkl) ends at byte ${this.bytes.length} in the middle of ${what}; ` +
          'the file is truncated or corrupt',
      );
    }
  }

  private readUint8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  private readUint32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  private readUint64(what: string): number {
    this.need(8, what);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return Number(value);
  }

  /** Little-endian integer of `length` bytes (two's complement when `signed`); must fit a JS safe integer. */
  private readSigned(length: number, what: string, signed = true): number {
    this.need(length, what);
    let value = 0n;
    for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(this.bytes[this.pos + i] ?? 0);
    if (signed && (this.bytes[this.pos + length - 1] ?? 0) & 0x80) value -= 1n << BigInt(8 * length);
    const at = this.pos - 1;
    this.pos += length;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw this.error(at, `${what} of ${value}, too large for a tensor size`);
    }
    return Number(value);
  }

  private readString(length: number): string {
    this.need(length, 'a string');
    const text = this.decodeUtf8(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }

  /** GLOBAL's operands: text up to a newline. */
  private readLine(what: string): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.need(this.bytes.length - this.pos + 1, what);
    const text = this.decodeUtf8(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  private decodeUtf8(raw: Uint8Array): string {
    try {
      return utf8.decode(raw);
    } catch {
      throw this.error(this.pos, 'a string that is not valid UTF-8');
    }
  }

  private error(at: number, problem: string): ModelError {
    return new ModelError(`${this.source}: the checkpoint's pickle (data.pkl) at byte ${at} has ${problem}`);
  }
}

function isCount(value: PickleValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function countTuple(value: PickleValue | undefined): number[] | undefined {
  if (typeof value !== 'object' || value === null || value.kind !== 'tuple') return undefined;
  return value.items.every(isCount) ? (value.items as number[]) : undefined;
}

/** A short description of a value for error messages. */
function describe(value: PickleValue | undefined): string {
  if (value === undefined || value === null) return 'None';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 60))}`;
  if (typeof value !== 'object') return `the ${typeof value} ${String(value)}`;
  switch (value.kind) {
    case 'global':
      return value.qualifiedName;
    case 'tuple':
      return `a tuple of ${value.items.length}`;
    case 'list':
      return `a list of ${value.items.length}`;
    case 'dict':
      return `a dict of ${value.entries.size}`;
    case 'storage':
      return `storage ${value.key}`;
    case 'tensor':
      return 'a tensor';
  }
}

/** Row-major strides of a contiguous tensor, as torch computes them (a size-0 dimension counts as 1). */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = step;
    step *= Math.max(shape[i] ?? 1, 1);
  }
  return strides;
}

/** Whether `stride` lays `shape` out row-major without gaps (torch ignores the stride of a size-1 dimension). */
export function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  if (shape.some((size) => size === 0)) return true;
  const expected = contiguousStrides(shape);
  return shape.every((size, i) => size === 1 || stride[i] === expected[i]);
}

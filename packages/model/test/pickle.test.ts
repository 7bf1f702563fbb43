import { describe, expect, it } from 'vitest';
import { isContiguous, unpickleStateDict } from '../src/checkpoint/pickle.js';
import { type PickledTensorRef, pickleStateDict } from '../src/checkpoint/pickle-writer.js';
import { ModelError } from '../src/errors.js';

const SOURCE = '/ckpt/consolidated.00.pth';

/** Hand-assembles pickle bytes: numbers are opcodes/raw bytes, strings are written as UTF-8. */
function pickleBytes(...parts: (number | string)[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (typeof part === 'number') out.push(part);
    else out.push(...new TextEncoder().encode(part));
  }
  return Uint8Array.from(out);
}

/** PROTO 2, GLOBAL module.name, SHORT_BINUNICODE arg, TUPLE1, REDUCE, STOP: a call of module.name(arg). */
function callPickle(module: string, name: string, arg: string): Uint8Array {
  return pickleBytes(0x80, 2, 0x63, `${module}\n${name}\n`, 0x8c, arg.length, arg, 0x85, 0x52, 0x2e);
}

function replaceSequence(bytes: Uint8Array, from: number[], to: number[]): Uint8Array {
  const out = Uint8Array.from(bytes);
  const at = Buffer.from(out).indexOf(Buffer.from(from));
  if (at < 0) throw new Error('sequence not found');
  out.set(to, at);
  return out;
}

describe('restricted unpickler', () => {
  it('round-trips the pickle the writer emits, with every dtype, big sizes and more than one SETITEMS batch', () => {
    const refs: PickledTensorRef[] = [
      { name: 'big', shape: [70_000, 70_000], dtype: 'bf16', storageKey: '0' },
      { name: 'scalar', shape: [], dtype: 'f32', storageKey: '1' },
      { name: 'cube', shape: [2, 3, 4, 5], dtype: 'f16', storageKey: '2' },
    ];
    for (let i = 0; i < 1200; i++)
      refs.push({ name: `t${i}`, shape: [i % 7, 3], dtype: 'f32', storageKey: `${i + 3}` });
    const tensors = unpickleStateDict(pickleStateDict(refs), SOURCE);
    expect(tensors).toHaveLength(refs.length);
    expect(tensors[0]).toEqual({
      name: 'big',
      storageKey: '0',
      dtype: 'bf16',
      storageNumel: 4_900_000_000,
      storageOffset: 0,
      shape: [70_000, 70_000],
      stride: [70_000, 1],
    });
    expect(tensors[1]).toMatchObject({ name: 'scalar', shape: [], stride: [], storageNumel: 1, dtype: 'f32' });
    expect(tensors[2]).toMatchObject({ shape: [2, 3, 4, 5], stride: [60, 20, 5, 1], dtype: 'f16' });
    expect(tensors.map((tensor) => tensor.name)).toEqual(refs.map((ref) => ref.name));
  });

  it("reads a model.state_dict() pickle, whose OrderedDict carries _metadata (BUILD), as Python's pickler wrote it", () => {
    // Python 3.11 pickle.Pickler(protocol=2) of OrderedDict(norm.weight=<f32 [2]>) with
    // _metadata = OrderedDict([('', {'version': 1}), ('norm', {'version': 1})]), torch's persistent ids.
    const hex =
      '800263636f6c6c656374696f6e730a4f726465726564446963740a710029527101580b0000006e6f726d2e776569676874710263746f' +
      '7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72616765710463746f726368' +
      '0a466c6f617453746f726167650a71055801000000307106580300000063707571074b02747108514b004b028571094b0185710a8968' +
      '002952710b74710c52710d737d710e58090000005f6d65746164617461710f6800295271102858000000007111' +
      '7d7112580700000076657273696f6e71134b017358040000006e6f726d71147d711568134b01737573622e';
    expect(unpickleStateDict(Uint8Array.from(Buffer.from(hex, 'hex')), SOURCE)).toEqual([
      {
        name: 'norm.weight',
        storageKey: '0',
        dtype: 'f32',
        storageNumel: 2,
        storageOffset: 0,
        shape: [2],
        stride: [1],
      },
    ]);
  });

  it.each([
    ['os', 'system', 'os.system'],
    ['posix', 'system', 'posix.system'],
    ['builtins', 'eval', 'builtins.eval'],
    ['__builtin__', 'eval', '__builtin__.eval'],
    ['subprocess', 'Popen', 'subprocess.Popen'],
    ['torch._utils', '_rebuild_parameter', 'torch._utils._rebuild_parameter'],
    ['torch', 'load', 'torch.load'],
  ])('refuses the global %s %s by name', (module, name, qualified) => {
    const call = () => unpickleStateDict(callPickle(module, name, 'echo pwned'), SOURCE);
    expect(call).toThrow(ModelError);
    expect(call).toThrow(
      `${SOURCE}: the checkpoint's pickle refers to ${qualified}, which is not allowed in a state dict ` +
        '(loading never runs code from a checkpoint)',
    );
  });

  it('refuses a forbidden global reached through STACK_GLOBAL (protocol 4)', () => {
    const bytes = pickleBytes(0x80, 4, 0x8c, 2, 'os', 0x8c, 6, 'system', 0x93, 0x8c, 1, 'x', 0x85, 0x52, 0x2e);
    expect(() => unpickleStateDict(bytes, SOURCE)).toThrow(/refers to os\.system, which is not allowed/);
  });

  it('refuses unknown opcodes, naming the byte and offset', () => {
    // INST 'os\nsystem\n' builds and calls in one opcode.
    const inst = pickleBytes(0x80, 2, 0x28, 0x69, 'os\nsystem\n', 0x2e);
    expect(() => unpickleStateDict(inst, SOURCE)).toThrow(/at byte 3 has opcode 0x69 INST/);
    expect(() => unpickleStateDict(pickleBytes(0x80, 2, 0xff), SOURCE)).toThrow(
      /at byte 2 has opcode 0xff is not allowed/,
    );
  });

  it('reports a truncated pickle at every cut point', () => {
    const whole = pickleStateDict([
      { name: 'a', shape: [4, 4], dtype: 'bf16', storageKey: '0' },
      { name: 'b', shape: [4], dtype: 'bf16', storageKey: '1' },
    ]);
    expect(unpickleStateDict(whole, SOURCE)).toHaveLength(2);
    for (let cut = 0; cut < whole.length; cut++) {
      expect(() => unpickleStateDict(whole.subarray(0, cut), SOURCE), `cut at ${cut}`).toThrow(ModelError);
    }
    expect(() => unpickleStateDict(whole.subarray(0, 40), SOURCE)).toThrow(
      new RegExp(`^${SOURCE}: the checkpoint's pickle \\(data.pkl\\) ends at byte 40`),
    );
  });

  it('rejects a non-contiguous tensor, naming it', () => {
    const contiguous = pickleStateDict([
      { name: 'layers.0.attention.wq.weight', shape: [2, 3], dtype: 'f32', storageKey: '0' },
    ]);
    // stride (3, 1) → (1, 2): the transpose of a [3, 2] tensor.
    const transposed = replaceSequence(contiguous, [0x4b, 3, 0x4b, 1, 0x86], [0x4b, 1, 0x4b, 2, 0x86]);
    expect(() => unpickleStateDict(transposed, SOURCE)).toThrow(
      `${SOURCE}: tensor layers.0.attention.wq.weight has strides [1, 2] for shape [2, 3], expected the contiguous`,
    );
  });

  it('rejects a tensor that runs past its storage', () => {
    const bytes = pickleStateDict([{ name: 'w', shape: [2, 3], dtype: 'f32', storageKey: '0' }]);
    // The persistent id's numel (K 6 before TUPLE) becomes 5.
    const short = replaceSequence(bytes, [0x4b, 6, 0x74], [0x4b, 5, 0x74]);
    expect(() => unpickleStateDict(short, SOURCE)).toThrow(
      /tensor w needs elements 0 to 6 of storage 0, which holds only 5/,
    );
  });

  it('rejects a pickle that is not a dict of tensors', () => {
    expect(() => unpickleStateDict(pickleBytes(0x80, 2, 0x4b, 7, 0x2e), SOURCE)).toThrow(/expected a state dict/);
    const dictOfInt = pickleBytes(0x80, 2, 0x7d, 0x8c, 1, 'a', 0x4b, 1, 0x73, 0x2e);
    expect(() => unpickleStateDict(dictOfInt, SOURCE)).toThrow(/entry "a" is the number 1, expected a tensor/);
  });

  it('checks contiguity as torch does (a size-1 dimension may have any stride)', () => {
    expect(isContiguous([4, 1, 3], [3, 99, 1])).toBe(true);
    expect(isContiguous([4, 3], [1, 4])).toBe(false);
    expect(isContiguous([0, 3], [7, 7])).toBe(true);
  });
});

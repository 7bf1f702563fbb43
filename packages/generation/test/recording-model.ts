// A LanguageModel that passes every forward to a real model and records, per pass, the tokens its
// KV cache then holds for each sequence (mirrored from the calls) and the logits of the last one:
// what a context-shift test compares with a fresh prefill of those tokens.
import type { LanguageModel } from '../src/index.js';

export interface RecordedPass {
  startPos: number;
  /** Per sequence: the tokens in the cache after this pass, position by position. */
  contexts: number[][];
  /** Per sequence: the logits of the pass's last position. */
  last: Float32Array[];
}

export class RecordingModel implements LanguageModel {
  readonly passes: RecordedPass[] = [];
  /** Per cache slot: the tokens the cache holds, as the forward calls wrote them. */
  readonly #cache: number[][] = [];

  constructor(readonly inner: LanguageModel & { dispose?(): void }) {}

  get args(): LanguageModel['args'] {
    return this.inner.args;
  }

  async forward(
    tokens: readonly (readonly number[])[],
    startPos: number,
    options: { logits?: 'last' | 'all'; slot?: number } = {},
  ): Promise<Float32Array> {
    const logits = await this.inner.forward(tokens, startPos, options);
    const vocab = this.args.vocabSize;
    const length = (tokens[0] as readonly number[]).length;
    const slot = options.slot ?? 0;
    const pass: RecordedPass = { startPos, contexts: [], last: [] };
    tokens.forEach((row, b) => {
      const cached = this.#cache[slot + b] ?? [];
      if (startPos > cached.length) throw new Error(`forward at ${startPos} past the ${cached.length} cached tokens`);
      cached.length = startPos;
      cached.push(...row);
      this.#cache[slot + b] = cached;
      const lastRow = options.logits === 'all' ? b * length + length - 1 : b;
      pass.contexts.push([...cached]);
      pass.last.push(logits.slice(lastRow * vocab, (lastRow + 1) * vocab));
    });
    this.passes.push(pass);
    return logits;
  }

  dispose(): void {
    this.inner.dispose?.();
  }
}

/** The largest absolute difference between two logits rows. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

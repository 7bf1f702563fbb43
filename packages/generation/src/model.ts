import type { LlamaFamily } from '@llama-ts/model';

/**
 * What generation needs from a model: @llama-ts/model's Transformer provides it, and tests can
 * provide a fake. The KV cache has `maxBatchSize` slots of `maxSeqLen` positions.
 */
export interface LanguageModel {
  readonly args: {
    readonly maxSeqLen: number;
    readonly maxBatchSize: number;
    readonly vocabSize: number;
    /** The family the checkpoint was read as, when the model knows it. */
    readonly family?: LlamaFamily;
  };
  forward(
    tokens: readonly (readonly number[])[],
    startPos: number,
    options?: { logits?: 'last' | 'all'; slot?: number },
  ): Promise<Float32Array>;
}

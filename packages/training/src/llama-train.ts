import {
  add,
  attention,
  attentionBackward,
  type Backend,
  crossEntropy,
  embedding,
  embeddingBackward,
  fromArray,
  matmul,
  matmulGradInput,
  matmulGradWeight,
  rmsNorm,
  rmsNormBackward,
  rope,
  ropeTable,
  swiglu,
  swigluBackward,
  type Tensor,
} from '@llama-ts/kernels';
import { expectedShapes, type ModelArgs, ropeFrequencies } from '@llama-ts/model';
import type { Batch } from './data.js';
import { TrainingError } from './errors.js';

/** The activations of one layer that its backward pass needs. */
interface LayerTape {
  input: Tensor;
  attnIn: Tensor;
  q: Tensor;
  k: Tensor;
  /** [B*T, Hkv*Dh]; the attention ops read it as [B, T, Hkv, Dh]. */
  vFlat: Tensor;
  attended: Tensor;
  afterAttention: Tensor;
  ffnIn: Tensor;
  gate: Tensor;
  up: Tensor;
  gated: Tensor;
}

/**
 * The Llama 3 forward pass with its activations kept, and the backward pass through it, on any
 * backend: the same architecture as @llama-ts/model's Transformer (RMSNorm, interleaved RoPE,
 * causal GQA, SwiGLU) but over whole sequences with no KV cache, in f32. `lossAndGradients` returns
 * the mean cross-entropy of a batch and leaves d(loss)/d(param) in `gradients` (same names).
 */
export class LlamaTrainer {
  readonly params = new Map<string, Tensor>();
  readonly gradients = new Map<string, Tensor>();
  readonly #rope: Tensor;

  constructor(
    readonly backend: Backend,
    readonly args: ModelArgs,
    values: ReadonlyMap<string, Float32Array>,
  ) {
    for (const [name, shape] of expectedShapes(args)) {
      const value = values.get(name);
      if (!value) throw new TrainingError(`LlamaTrainer: parameter ${name} is missing`);
      this.params.set(name, fromArray(backend, value, shape));
    }
    this.#rope = ropeTable(backend, {
      frequencies: ropeFrequencies(args.headDim, args.ropeTheta),
      positions: args.maxSeqLen,
    });
  }

  #p(name: string): Tensor {
    return this.params.get(name) as Tensor;
  }

  /** Mean cross-entropy over the batch's targets, without gradients (evaluation). */
  async loss(batch: Batch): Promise<number> {
    const { logits, tapes, final, ids } = this.#forward(batch);
    const targets = fromArray(this.backend, batch.y, [batch.x.length], 'i32');
    const { loss, dLogits } = crossEntropy(logits, targets);
    const value = mean(await loss.toFloat32());
    for (const t of [ids, logits, targets, loss, dLogits, final.input, final.normed, ...tapes.flatMap(tapeTensors)]) {
      t.dispose();
    }
    return value;
  }

  /** The logits of every position, row-major [batchSize * seqLen, vocabSize] (no gradients). */
  async logits(batch: Batch): Promise<Float32Array> {
    const { logits, tapes, final, ids } = this.#forward(batch);
    const values = await logits.toFloat32();
    for (const t of [ids, logits, final.input, final.normed, ...tapes.flatMap(tapeTensors)]) t.dispose();
    return values;
  }

  /** Mean cross-entropy of the batch; `gradients` then holds its gradient for every parameter. */
  async lossAndGradients(batch: Batch): Promise<number> {
    for (const g of this.gradients.values()) g.dispose();
    this.gradients.clear();
    const { logits, tapes, final, ids } = this.#forward(batch);
    const rows = batch.x.length;
    const targets = fromArray(this.backend, batch.y, [rows], 'i32');
    const { loss, dLogits } = crossEntropy(logits, targets, { scale: 1 / rows });
    logits.dispose();
    targets.dispose();
    const { normEps } = this.args;

    this.gradients.set('output.weight', matmulGradWeight(dLogits, final.normed));
    const dNormed = matmulGradInput(dLogits, this.#p('output.weight'));
    dLogits.dispose();
    const finalNorm = rmsNormBackward(final.input, this.#p('norm.weight'), dNormed, normEps);
    this.gradients.set('norm.weight', finalNorm.dWeight);
    let dH = finalNorm.dX;
    for (const t of [dNormed, final.normed, final.input]) t.dispose();

    for (let i = this.args.nLayers - 1; i >= 0; i--) {
      const next = this.#layerBackward(i, tapes[i] as LayerTape, dH, batch);
      dH.dispose();
      dH = next;
    }
    this.gradients.set('tok_embeddings.weight', embeddingBackward(ids, dH, this.args.vocabSize));
    for (const t of [dH, ids]) t.dispose();
    const value = mean(await loss.toFloat32());
    loss.dispose();
    return value;
  }

  dispose(): void {
    for (const t of [...this.params.values(), ...this.gradients.values(), this.#rope]) t.dispose();
  }

  #forward(batch: Batch) {
    const { batchSize: B, seqLen: T } = batch;
    const ids = fromArray(this.backend, batch.x, [B * T], 'i32');
    let h = embedding(this.#p('tok_embeddings.weight'), ids);
    const tapes: LayerTape[] = [];
    for (let i = 0; i < this.args.nLayers; i++) {
      const tape = this.#layerForward(i, h, B, T);
      tapes.push(tape);
      h = this.#ffnOut(tape, i); // the next layer's input; its tape owns it
    }
    const normed = rmsNorm(h, this.#p('norm.weight'), this.args.normEps);
    const logits = matmul(normed, this.#p('output.weight'));
    return { logits, tapes, final: { input: h, normed }, ids };
  }

  #layerForward(i: number, input: Tensor, B: number, T: number): LayerTape {
    const { nHeads, nKvHeads, headDim, normEps } = this.args;
    const w = (suffix: string) => this.#p(`layers.${i}.${suffix}.weight`);
    const attnIn = rmsNorm(input, w('attention_norm'), normEps);
    const heads = (x: Tensor, n: number) => x.reshape([B, T, n, headDim]);
    const rotate = (x: Tensor) => rope(x, this.#rope, { startPos: 0, layout: 'interleaved' });
    const qFlat = matmul(attnIn, w('attention.wq'));
    const kFlat = matmul(attnIn, w('attention.wk'));
    const q = rotate(heads(qFlat, nHeads));
    const k = rotate(heads(kFlat, nKvHeads));
    const vFlat = matmul(attnIn, w('attention.wv'));
    for (const t of [qFlat, kFlat]) t.dispose();
    // The batch's own keys and values are the cache: slot b holds sequence b, positions 0..T-1.
    const attended = attention(q, k, heads(vFlat, nKvHeads), { startPos: 0 });
    const projected = matmul(attended.reshape([B * T, nHeads * headDim]), w('attention.wo'));
    const afterAttention = add(input, projected);
    projected.dispose();
    const ffnIn = rmsNorm(afterAttention, w('ffn_norm'), normEps);
    const gate = matmul(ffnIn, w('feed_forward.w1'));
    const up = matmul(ffnIn, w('feed_forward.w3'));
    const gated = swiglu(gate, up);
    return { input, attnIn, q, k, vFlat, attended, afterAttention, ffnIn, gate, up, gated };
  }

  #ffnOut(tape: LayerTape, i: number): Tensor {
    const down = matmul(tape.gated, this.#p(`layers.${i}.feed_forward.w2.weight`));
    const out = add(tape.afterAttention, down);
    down.dispose();
    return out;
  }

  /** Backward through one layer: dOut is d(loss)/d(layer output); returns d(loss)/d(layer input). */
  #layerBackward(i: number, tape: LayerTape, dOut: Tensor, batch: Batch): Tensor {
    const { nHeads, nKvHeads, headDim, normEps } = this.args;
    const { batchSize: B, seqLen: T } = batch;
    const name = (suffix: string) => `layers.${i}.${suffix}.weight`;
    const w = (suffix: string) => this.#p(name(suffix));
    const grad = (suffix: string, value: Tensor) => this.gradients.set(name(suffix), value);

    // Feed-forward: out = afterAttention + w2(swiglu(w1 x, w3 x)), x = ffnNorm(afterAttention).
    grad('feed_forward.w2', matmulGradWeight(dOut, tape.gated));
    const dGated = matmulGradInput(dOut, w('feed_forward.w2'));
    const { dA: dGate, dB: dUp } = swigluBackward(tape.gate, tape.up, dGated);
    grad('feed_forward.w1', matmulGradWeight(dGate, tape.ffnIn));
    grad('feed_forward.w3', matmulGradWeight(dUp, tape.ffnIn));
    const dFfnIn = sum(matmulGradInput(dGate, w('feed_forward.w1')), matmulGradInput(dUp, w('feed_forward.w3')));
    const ffnNorm = rmsNormBackward(tape.afterAttention, w('ffn_norm'), dFfnIn, normEps);
    grad('ffn_norm', ffnNorm.dWeight);
    const dAfterAttention = sum(ffnNorm.dX, dOut, { keepSecond: true });

    // Attention: afterAttention = input + wo(attention(rope(wq x), rope(wk x), wv x)), x = attnNorm(input).
    const attendedFlat = tape.attended.reshape([B * T, nHeads * headDim]);
    grad('attention.wo', matmulGradWeight(dAfterAttention, attendedFlat));
    const dAttended = matmulGradInput(dAfterAttention, w('attention.wo'));
    const v = tape.vFlat.reshape([B, T, nKvHeads, headDim]);
    const { dQ, dK, dV } = attentionBackward(tape.q, tape.k, v, dAttended.reshape([B, T, nHeads, headDim]));
    const inverse = { startPos: 0, layout: 'interleaved', inverse: true } as const;
    const dQPre = rope(dQ, this.#rope, inverse); // RoPE's transpose: rotate back
    const dKPre = rope(dK, this.#rope, inverse);
    const dQFlat = dQPre.reshape([B * T, nHeads * headDim]);
    const dKFlat = dKPre.reshape([B * T, nKvHeads * headDim]);
    const dVFlat = dV.reshape([B * T, nKvHeads * headDim]);
    grad('attention.wq', matmulGradWeight(dQFlat, tape.attnIn));
    grad('attention.wk', matmulGradWeight(dKFlat, tape.attnIn));
    grad('attention.wv', matmulGradWeight(dVFlat, tape.attnIn));
    const dAttnIn = sum(
      sum(matmulGradInput(dQFlat, w('attention.wq')), matmulGradInput(dKFlat, w('attention.wk'))),
      matmulGradInput(dVFlat, w('attention.wv')),
    );
    const attnNorm = rmsNormBackward(tape.input, w('attention_norm'), dAttnIn, normEps);
    grad('attention_norm', attnNorm.dWeight);
    const dInput = sum(attnNorm.dX, dAfterAttention);
    for (const t of [dGated, dGate, dUp, dAttended, dQ, dK, dV, dQPre, dKPre, ...tapeTensors(tape)]) t.dispose();
    return dInput;
  }
}

function tapeTensors(tape: LayerTape): Tensor[] {
  return [
    tape.input,
    tape.attnIn,
    tape.q,
    tape.k,
    tape.vFlat,
    tape.attended,
    tape.afterAttention,
    tape.ffnIn,
    tape.gate,
    tape.up,
    tape.gated,
  ];
}

/** a + b into a new tensor, disposing a (and b unless keepSecond). */
function sum(a: Tensor, b: Tensor, options: { keepSecond?: boolean } = {}): Tensor {
  const out = add(a, b);
  a.dispose();
  if (!options.keepSecond) b.dispose();
  return out;
}

function mean(values: Float32Array): number {
  let total = 0;
  for (const v of values) total += v;
  return total / Math.max(1, values.length);
}

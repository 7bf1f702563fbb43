import type { FinishReason, Llama, StreamDelta, StreamSummary } from '@llama-ts/generation';
import type { Dialog } from '@llama-ts/tokenizer';
import { isUserError } from '../errors.js';
import { HttpError } from './http.js';
import type { GenerationRequest } from './validate.js';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface Finished {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
}

/**
 * Runs one request's generation on the model (the caller holds the queue), calling `onDelta` for
 * each piece of text. Errors before the first token (a prompt longer than the context, a bad
 * sampling option) become 400s; an aborted request finishes with 'abort'.
 */
export async function runGeneration(
  llama: Llama,
  prompt: string | Dialog,
  request: GenerationRequest,
  signal: AbortSignal,
  onDelta: (delta: StreamDelta) => Promise<void>,
): Promise<Finished> {
  let stream: AsyncGenerator<StreamDelta, StreamSummary>;
  let step: IteratorResult<StreamDelta, StreamSummary>;
  try {
    if (request.seed !== undefined) llama.reseed(request.seed);
    stream = llama.stream(prompt, { ...request.options, signal });
    step = await stream.next();
  } catch (error) {
    if (signal.aborted) return { text: '', finishReason: 'abort', usage: toUsage(0, 0) };
    if (isUserError(error)) throw new HttpError(400, (error as Error).message);
    throw error;
  }
  let text = '';
  try {
    while (!step.done) {
      text += step.value.text;
      if (step.value.text) await onDelta(step.value);
      step = await stream.next();
    }
  } catch (error) {
    if (signal.aborted) return { text, finishReason: 'abort', usage: toUsage(0, 0) };
    throw error;
  } finally {
    if (!step.done) await stream.return(undefined as never).catch(() => {});
  }
  const summary = step.value;
  return {
    text: summary.text,
    finishReason: summary.finishReason,
    usage: toUsage(summary.usage.promptTokens, summary.usage.generatedTokens),
  };
}

function toUsage(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

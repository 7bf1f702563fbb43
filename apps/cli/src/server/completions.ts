import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSampler, createSamplingRng, type Llama, type StreamDelta } from '@llama-ts/generation';
import type { GenerationEngine, SequenceResult } from './engine.js';
import { HttpError, readJson, writeJsonHead } from './http.js';
import type { Metrics } from './metrics.js';
import {
  chatLogprobs,
  completionLogprobs,
  type Kind,
  type TokenLogprobs,
  type TokenSpeller,
  tokenLogprobsOf,
  usageOf,
} from './openai.js';
import { parseChatRequest, parseCompletionRequest } from './validate.js';
import { EventStream, ResponseWriter } from './writer.js';

export interface GenerationContext {
  llama: Llama;
  engine: GenerationEngine;
  metrics: Metrics;
  speller: TokenSpeller;
  modelName: string;
  maxBodyBytes: number;
  writeTimeoutMs: number;
}

/** What the request log line says about a generation. */
export interface GenerationNote {
  note?: string;
}

/** One choice of a response as it is generated. */
interface Choice {
  index: number;
  /** Logprob entries not yet sent (streaming) or all of them (otherwise). */
  logprobs: TokenLogprobs[];
  /** UTF-16 units of text sent so far (completions' text_offset). */
  sent: number;
  started: boolean;
  result?: SequenceResult;
}

/**
 * The requests' prompts as token ids: text and dialogs are encoded by the model's tokenizer (a
 * long one on a worker thread, so the event loop keeps serving others).
 */
async function promptIds(llama: Llama, kind: Kind, body: unknown) {
  if (kind === 'chat') {
    const request = parseChatRequest(body);
    return { request, prompts: [await llama.encodePrompt(request.messages)] };
  }
  const request = parseCompletionRequest(body, llama.model.args.vocabSize);
  const prompts = await Promise.all(
    request.prompts.map((p) => (typeof p === 'string' ? llama.encodePrompt(p) : [...p])),
  );
  return { request, prompts };
}

/** Refuses what would fail in the engine (before a stream has started, so it can still be a 400). */
function checkFits(llama: Llama, prompts: readonly number[][], options: object): void {
  const { maxSeqLen } = llama.model.args;
  prompts.forEach((prompt, i) => {
    const which = prompts.length > 1 ? `prompt[${i}]` : 'the prompt';
    if (prompt.length === 0) throw new HttpError(400, `${which} is empty; it needs at least one token`);
    if (prompt.length > maxSeqLen) {
      throw new HttpError(400, `${which} has ${prompt.length} tokens, longer than the context (${maxSeqLen} tokens)`);
    }
  });
  createSampler(options, createSamplingRng(0)); // A GenerationError naming a bad sampling option.
}

/** POST /v1/completions and /v1/chat/completions. */
export async function generationRoute(
  context: GenerationContext,
  req: IncomingMessage,
  res: ServerResponse,
  kind: Kind,
  log: GenerationNote,
): Promise<void> {
  const { engine, metrics, speller, modelName } = context;
  const body = await readJson(req, context.maxBodyBytes);
  const { request, prompts } = await promptIds(context.llama, kind, body);
  checkFits(context.llama, prompts, request.options);
  const jobs = prompts.length * request.n;
  if (!engine.accepts(jobs)) {
    throw new HttpError(503, 'the server is busy (its queue is full); retry shortly', 'server_error', {
      'Retry-After': '1',
    });
  }

  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('the client disconnected'));
  });
  const writer = new ResponseWriter(res, context.writeTimeoutMs, () => {
    log.note = 'dropped: the client stopped reading (write timeout)';
    controller.abort(new Error('write timeout'));
  });

  const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  let events: EventStream | undefined;
  const send = (choices: unknown[], extra: object = {}) => {
    events ??= new EventStream(res, writer);
    events.send({ id, object: chunkObject, created, model: modelName, choices, ...extra });
  };

  /** A streamed delta: text (possibly '') and its log-probs, as this kind's chunk. */
  const streamDelta = (choice: Choice, text: string) => {
    if (kind === 'chat') {
      if (!choice.started)
        send([{ index: choice.index, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
      const logprobs = request.logprobs !== undefined ? chatLogprobs(choice.logprobs, speller) : null;
      send([{ index: choice.index, delta: { content: text }, logprobs, finish_reason: null }]);
    } else {
      const logprobs =
        request.logprobs !== undefined ? completionLogprobs(choice.logprobs, speller, choice.sent) : null;
      send([{ index: choice.index, text, logprobs, finish_reason: null }]);
    }
    choice.started = true;
    choice.sent += text.length;
    choice.logprobs = [];
  };

  const choices: Choice[] = Array.from({ length: jobs }, (_, index) => ({
    index,
    logprobs: [],
    sent: 0,
    started: false,
  }));
  for (const prompt of prompts) metrics.promptTokens(prompt.length);

  const runs = choices.map((choice) => {
    const prompt = prompts[Math.floor(choice.index / request.n)] as number[];
    const seed = request.seed === undefined ? undefined : request.seed + (choice.index % request.n);
    return engine
      .run({
        prompt,
        options: request.options,
        ...(seed !== undefined ? { seed } : {}),
        signal: controller.signal,
        onDelta: (delta: StreamDelta) => {
          if (delta.token >= 0) metrics.completionToken();
          const entry = tokenLogprobsOf(delta);
          if (entry) choice.logprobs.push(entry);
          if (request.stream && (delta.text || entry)) streamDelta(choice, delta.text);
        },
      })
      .then((result) => {
        choice.result = result;
      });
  });
  // Every choice settles before the response is finished or failed (none keeps running unseen).
  const settled = await Promise.allSettled(runs);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    controller.abort(new Error('another choice failed'));
    throw failure.reason;
  }
  const results = choices.map((c) => c.result as SequenceResult);
  const promptTokens = prompts.reduce((sum, p) => sum + p.length, 0);
  const completionTokens = results.reduce((sum, r) => sum + r.completionTokens, 0);
  const finishes = [...new Set(results.map((r) => r.finishReason))].join(',');
  log.note ??= `prompt=${promptTokens} completion=${completionTokens} finish=${finishes}`;
  if (controller.signal.aborted) return;
  const usage = usageOf(promptTokens, completionTokens);

  if (request.stream) {
    // Finish chunks once every choice is done, the usage on the last one and, with
    // stream_options.include_usage, also on a final chunk without choices, as OpenAI sends it.
    choices.forEach((choice, i) => {
      const finish = (choice.result as SequenceResult).finishReason;
      if (kind === 'chat' && !choice.started) streamDelta(choice, '');
      const last =
        kind === 'chat'
          ? { index: choice.index, delta: {}, finish_reason: finish }
          : { index: choice.index, text: '', logprobs: null, finish_reason: finish };
      send([last], i === choices.length - 1 ? { usage } : {});
    });
    if (request.includeUsage) send([], { usage });
    events?.done();
    return;
  }
  const response = {
    id,
    object: kind === 'chat' ? 'chat.completion' : 'text_completion',
    created,
    model: modelName,
    choices: choices.map((choice) => {
      const result = choice.result as SequenceResult;
      if (kind === 'chat') {
        return {
          index: choice.index,
          message: { role: 'assistant', content: result.text },
          logprobs: request.logprobs !== undefined ? chatLogprobs(choice.logprobs, speller) : null,
          finish_reason: result.finishReason,
        };
      }
      return {
        index: choice.index,
        text: result.text,
        logprobs: request.logprobs !== undefined ? completionLogprobs(choice.logprobs, speller) : null,
        finish_reason: result.finishReason,
      };
    }),
    usage,
  };
  writer.end(writeJsonHead(res, 200, response));
}

// The worker thread behind PromptEncoder: it opens the same tokenizer as the Llama it serves (from
// its TokenizerSource) and encodes prompts on request, so that a huge prompt never blocks the
// event loop of the thread that serves requests.
import { parentPort, workerData } from 'node:worker_threads';
import type { DialogFormat, TextTokenizer } from '@llama-ts/tokenizer';
import { chatAvailability } from './chat-template.js';
import { openTokenizer, type TokenizerSource, textSideOf } from './open-tokenizer.js';
import type { EncodeJob, EncodeReply } from './prompt-encoder.js';

interface TextSide {
  tokenizer: TextTokenizer;
  addBos: boolean;
  addEos: boolean;
  format: DialogFormat | undefined;
}

async function openTextSide(source: TokenizerSource): Promise<TextSide> {
  const opened = await openTokenizer(source.options, source.isGGUF);
  const side = textSideOf(opened, source.vocabSize, source.options.stopTokens);
  const chat = chatAvailability(side.tokenizer, side.options.chatTemplate);
  return {
    tokenizer: side.tokenizer,
    addBos: side.options.addBos ?? true,
    addEos: side.options.addEos ?? false,
    format: 'format' in chat ? chat.format : undefined,
  };
}

const port = parentPort;
if (!port) throw new Error('encode-worker runs as a worker thread (PromptEncoder starts it)');
const ready = openTextSide(workerData as TokenizerSource);
// Keep an opening failure for the first job's reply instead of an unhandled rejection.
ready.catch(() => {});

port.on('message', async (job: EncodeJob) => {
  let reply: EncodeReply;
  let side: TextSide;
  try {
    side = await ready;
  } catch (error) {
    // The tokenizer does not open here: say so, and the caller stops using this worker.
    port.postMessage({
      id: job.id,
      unavailable: error instanceof Error ? error.message : String(error),
    } satisfies EncodeReply);
    return;
  }
  try {
    let ids: number[];
    if (job.kind === 'text') {
      ids = side.tokenizer.encode(job.text, { bos: side.addBos, eos: side.addEos });
    } else {
      if (!side.format) throw new Error('this tokenizer has no chat format');
      ids = side.format.encodeDialogPrompt(job.dialog);
    }
    const array = Int32Array.from(ids);
    port.postMessage({ id: job.id, ids: array } satisfies EncodeReply, [array.buffer]);
    return;
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    reply = { id: job.id, error: { name, message } };
  }
  port.postMessage(reply);
});

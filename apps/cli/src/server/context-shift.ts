import type { ContextShiftOptions } from '@llama-ts/generation';
import type { GenerationEngine } from './engine.js';
import { HttpError } from './http.js';

/** The server's context shift for requests that do not say: off, or on with these options. */
export type ServerContextShift = false | ContextShiftOptions;

/** The server's default, checked against what its engine can do (a configuration error otherwise). */
export function serverContextShift(
  option: boolean | ContextShiftOptions | undefined,
  engine: GenerationEngine,
): ServerContextShift {
  if (option === undefined || option === false) return false;
  if (!engine.canShiftContext) {
    throw new Error(
      'startServer: contextShift needs an engine that can shift (the SerialEngine); continuous batching has none',
    );
  }
  return option === true ? {} : option;
}

/**
 * One request's `contextShift` generation option: its context_shift and n_keep over the server's
 * default. A request's shift the engine cannot do, or an n_keep without a shift, is a 400 naming the field.
 */
export function requestContextShift(
  asked: { contextShift?: boolean; keep?: number },
  serverDefault: ServerContextShift,
  engine: GenerationEngine,
  maxSeqLen: number,
): ServerContextShift {
  const on = asked.contextShift ?? serverDefault !== false;
  if (on && !engine.canShiftContext) {
    throw new HttpError(
      400,
      `context_shift is not available with continuous batching (serve --parallel ${engine.slots}); a sequence stops at the context (${maxSeqLen} tokens). Use serve --parallel 1 for it`,
    );
  }
  if (!on) {
    if (asked.keep !== undefined) {
      throw new HttpError(400, 'n_keep is for the context shift, which is off for this request (context_shift)');
    }
    return false;
  }
  if (asked.keep === undefined) return serverDefault === false ? {} : serverDefault;
  if (asked.keep > maxSeqLen - 2) {
    throw new HttpError(
      400,
      `n_keep must be an integer from 0 to ${maxSeqLen - 2} (the context less 2), got ${asked.keep}`,
    );
  }
  return { keep: asked.keep };
}

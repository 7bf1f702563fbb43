/** Timing and token counts of one generation call (llama.cpp's and OpenAI's usage figures). */
export interface Usage {
  /** Prompt tokens, summed over the batch. */
  promptTokens: number;
  /** Generated tokens returned (after the stop-token cut), summed over the batch. */
  generatedTokens: number;
  /** Prompt tokens actually run through the model (fewer when a chat session reused its cache). */
  prefilledTokens: number;
  /** From the call to the first sampled token. */
  timeToFirstTokenMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** Context shifts made (generation past the context; their re-prefills count as decode time). */
  contextShifts: number;
}

/** Accumulates the figures while a generation runs. */
export class UsageClock {
  readonly #start = performance.now();
  #firstToken: number | undefined;
  #decodeTokens = 0;
  #contextShifts = 0;
  prefilledTokens = 0;

  /** Call when the first forward pass (the prefill) has produced its logits. */
  prefillDone(tokens: number): void {
    this.#firstToken ??= performance.now();
    this.prefilledTokens = tokens;
  }

  /** Call after each decode step with the number of sequences it advanced. */
  decoded(tokens: number): void {
    this.#decodeTokens += tokens;
  }

  /** Call after each context shift. */
  contextShifted(): void {
    this.#contextShifts++;
  }

  finish(promptTokens: number, generatedTokens: number): Usage {
    const end = performance.now();
    const first = this.#firstToken ?? end;
    const prefillSeconds = (first - this.#start) / 1e3;
    const decodeSeconds = (end - first) / 1e3;
    return {
      promptTokens,
      generatedTokens,
      prefilledTokens: this.prefilledTokens,
      timeToFirstTokenMs: first - this.#start,
      prefillTokensPerSecond: prefillSeconds > 0 ? this.prefilledTokens / prefillSeconds : 0,
      decodeTokensPerSecond: decodeSeconds > 0 ? this.#decodeTokens / decodeSeconds : 0,
      contextShifts: this.#contextShifts,
    };
  }
}

import type { GenerationEngine } from './engine.js';

/** Routes counted by name; anything else is counted as "other" so that label values stay few. */
const ROUTES = new Set(['/v1/completions', '/v1/chat/completions', '/v1/models', '/health', '/metrics']);

/** The window over which llama_ts_tokens_per_second averages, in seconds. */
const RATE_WINDOW_S = 10;

/** Counters for /metrics, in Prometheus' text format. */
export class Metrics {
  readonly #requests = new Map<string, number>();
  #promptTokens = 0;
  #completionTokens = 0;
  /** Completion tokens per second of the last RATE_WINDOW_S seconds, by whole second. */
  readonly #buckets = new Map<number, number>();

  constructor(private readonly engine: GenerationEngine) {}

  request(path: string, status: number): void {
    const key = `path="${ROUTES.has(path) ? path : 'other'}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  promptTokens(count: number): void {
    this.#promptTokens += count;
  }

  /** One generated token, counted when it is produced (also for clients that leave later). */
  completionToken(): void {
    this.#completionTokens++;
    const second = Math.floor(Date.now() / 1000);
    this.#buckets.set(second, (this.#buckets.get(second) ?? 0) + 1);
    if (this.#buckets.size > RATE_WINDOW_S + 2) this.#prune(second);
  }

  #prune(now: number): void {
    for (const second of this.#buckets.keys()) if (second <= now - RATE_WINDOW_S) this.#buckets.delete(second);
  }

  /** Generated tokens per second over the last RATE_WINDOW_S whole seconds, all sequences together. */
  tokensPerSecond(): number {
    const now = Math.floor(Date.now() / 1000);
    this.#prune(now);
    let sum = 0;
    for (const [second, count] of this.#buckets) if (second < now) sum += count;
    return sum / RATE_WINDOW_S;
  }

  render(): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}${labels ? `{${labels}}` : ''} ${value}`);
    };
    metric('llama_ts_requests_total', 'counter', 'HTTP requests answered, by path and status.', [...this.#requests]);
    metric('llama_ts_prompt_tokens_total', 'counter', 'Prompt tokens of generation requests.', [
      ['', this.#promptTokens],
    ]);
    metric('llama_ts_completion_tokens_total', 'counter', 'Tokens generated.', [['', this.#completionTokens]]);
    metric('llama_ts_queue_depth', 'gauge', 'Sequences waiting for a slot.', [['', this.engine.waiting]]);
    metric('llama_ts_active_slots', 'gauge', 'Sequences generating now.', [['', this.engine.active]]);
    metric('llama_ts_slots', 'gauge', 'Sequences that can generate at once.', [['', this.engine.slots]]);
    metric(
      'llama_ts_tokens_per_second',
      'gauge',
      `Tokens generated per second over the last ${RATE_WINDOW_S} s, all sequences together.`,
      [['', this.tokensPerSecond()]],
    );
    return `${lines.join('\n')}\n`;
  }
}

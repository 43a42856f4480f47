import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A provider's limits in one place: at most `concurrency` calls in flight and at most
 * `perMinute` calls started per minute (a token bucket refilled continuously).
 */
export class ProviderLimiter {
  readonly #concurrency: number;
  readonly #perMinute: number;
  readonly #now: () => number;
  readonly #wait: (ms: number) => Promise<unknown>;
  readonly #queue: (() => void)[] = [];
  #running = 0;
  #tokens: number;
  #refilledAt: number;

  constructor(options: {
    concurrency: number;
    perMinute: number;
    now?: () => number;
    wait?: (ms: number) => Promise<unknown>;
  }) {
    this.#concurrency = options.concurrency;
    this.#perMinute = options.perMinute;
    this.#now = options.now ?? Date.now;
    this.#wait = options.wait ?? sleep;
    this.#tokens = options.perMinute;
    this.#refilledAt = this.#now();
  }

  /** Runs `task` once a slot and a token are free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#concurrency)
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#running++;
    try {
      await this.#take();
      return await task();
    } finally {
      this.#running--;
      this.#queue.shift()?.();
    }
  }

  async #take(): Promise<void> {
    for (;;) {
      const now = this.#now();
      this.#tokens = Math.min(
        this.#perMinute,
        this.#tokens + ((now - this.#refilledAt) * this.#perMinute) / 60_000,
      );
      this.#refilledAt = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#wait(Math.ceil(((1 - this.#tokens) * 60_000) / this.#perMinute));
    }
  }
}

/**
 * Model tokens per tenant per UTC day (in this process: each replica keeps its own count, so
 * with N replicas a tenant may spend up to N budgets). 0 means no limit.
 */
export class TokenBudget {
  readonly #daily: number;
  readonly #now: () => number;
  readonly #spent = new Map<string, { day: string; tokens: number }>();

  constructor(daily: number, now: () => number = Date.now) {
    this.#daily = daily;
    this.#now = now;
  }

  exhausted(tenant: string): boolean {
    return this.#daily > 0 && this.spent(tenant) >= this.#daily;
  }

  spent(tenant: string): number {
    const entry = this.#spent.get(tenant);
    return entry?.day === this.#today() ? entry.tokens : 0;
  }

  spend(tenant: string, tokens: number): void {
    this.#spent.set(tenant, { day: this.#today(), tokens: this.spent(tenant) + tokens });
  }

  #today(): string {
    return new Date(this.#now()).toISOString().slice(0, 10);
  }
}

/**
 * Client-side pacing for every OCI call of a batch: a bounded number in flight, a token bucket
 * whose rate adapts (AIMD: additive increase on success, multiplicative decrease on 429), and two
 * priorities so that state polls are not stuck behind a queue of a thousand power actions.
 * Calls that cannot start before their deadline are rejected with DeadlineExceeded, never sent.
 * `call` owns a request end to end: the queue, its timeout, and the rate feedback from its answer,
 * so no caller can forget to report a 429.
 */
import { type Clock, systemClock } from "./clock.js";
import { ComputeError, PowerError } from "./errors.js";

export interface PacingOptions {
  maxConcurrency: number;
  /** Requests per second to start with. */
  initialRate: number;
  /** Ceiling for additive increase. */
  maxRate?: number;
  minRate?: number;
  clock?: Clock;
}

export interface CallOptions {
  priority: "high" | "normal";
  /** Per-request timeout, started when the request starts (not while it is queued). */
  timeoutMs: number;
  /** Epoch ms: the call is not started after this, and its timeout never runs past it. */
  notAfter: number;
}

interface Entry {
  notAfter: number;
  start: () => void;
  reject: (error: unknown) => void;
}

export class NotSentError extends PowerError {
  constructor(message: string) {
    super("DeadlineExceeded", message);
    this.name = "NotSentError";
  }
}

export class CallScheduler {
  private rate: number;
  private readonly maxRate: number;
  private readonly minRate: number;
  private readonly maxConcurrency: number;
  private readonly clock: Clock;
  private tokens = 1;
  private lastRefill: number;
  private lastDecrease = 0;
  private inFlight = 0;
  private readonly high: Entry[] = [];
  private readonly normal: Entry[] = [];
  private cancelTimer: (() => void) | undefined;
  private closedReason: string | undefined;
  /** Counters for logs and tests. */
  readonly stats = { started: 0, throttled: 0 };

  constructor(options: PacingOptions) {
    this.rate = options.initialRate;
    this.maxRate = Math.max(options.initialRate, options.maxRate ?? Math.max(50, options.initialRate * 10));
    this.minRate = Math.min(options.initialRate, options.minRate ?? 1);
    this.maxConcurrency = options.maxConcurrency;
    this.clock = options.clock ?? systemClock;
    this.lastRefill = this.clock.now();
  }

  get currentRate(): number {
    return this.rate;
  }

  /**
   * Runs one request when a slot and a token are free, with its own timeout (capped by notAfter)
   * whose timer is cleared afterwards, and feeds its answer back into the rate: success raises it,
   * 429 lowers it. Rejects with NotSentError if it cannot start by notAfter.
   */
  async call<T>(fn: (signal: AbortSignal) => Promise<T>, options: CallOptions): Promise<T> {
    try {
      const value = await this.schedule(() => this.withTimeout(fn, options), options);
      this.succeeded();
      return value;
    } catch (error) {
      if (error instanceof ComputeError && error.code === "TooManyRequests") this.throttled();
      throw error;
    }
  }

  private async withTimeout<T>(fn: (signal: AbortSignal) => Promise<T>, options: CallOptions): Promise<T> {
    const controller = new AbortController();
    const ms = Math.max(1, Math.min(options.timeoutMs, options.notAfter - this.clock.now()));
    const cancel = this.clock.after(ms, () => controller.abort());
    try {
      return await fn(controller.signal);
    } finally {
      cancel();
    }
  }

  /**
   * Runs fn when a slot and a token are free; rejects with NotSentError if that is after notAfter.
   * Low level: no timeout, no rate feedback (use `call` for OCI requests).
   */
  schedule<T>(fn: () => Promise<T>, options: { priority: "high" | "normal"; notAfter: number }): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closedReason !== undefined) {
        reject(new NotSentError(this.closedReason));
        return;
      }
      const entry: Entry = {
        notAfter: options.notAfter,
        reject,
        start: () => {
          this.inFlight++;
          this.stats.started++;
          let promise: Promise<T>;
          try {
            promise = fn();
          } catch (error) {
            promise = Promise.reject(error);
          }
          promise.then(resolve, reject).finally(() => {
            this.inFlight--;
            this.pump();
          });
        },
      };
      (options.priority === "high" ? this.high : this.normal).push(entry);
      this.pump();
    });
  }

  /** A call succeeded: raise the rate by about one request per second per second (call() does this). */
  succeeded(): void {
    this.rate = Math.min(this.maxRate, this.rate + 1.5 / this.rate);
  }

  /** OCI answered 429: lower the rate (at most once per short window) and drain the bucket (call() does this). */
  throttled(): void {
    this.stats.throttled++;
    const now = this.clock.now();
    this.tokens = Math.min(this.tokens, 0);
    if (now - this.lastDecrease >= 1000 / this.rate + 250) {
      this.rate = Math.max(this.minRate, this.rate * 0.8);
      this.lastDecrease = now;
    }
  }

  /** Rejects everything still queued (deadline reached); later calls are rejected at once. */
  close(reason: string): void {
    this.closedReason = reason;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (const queue of [this.high, this.normal]) {
      for (const entry of queue.splice(0)) entry.reject(new NotSentError(reason));
    }
  }

  private refill(now: number): void {
    const burst = Math.max(1, this.rate / 4);
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * this.rate);
    this.lastRefill = now;
  }

  private pump(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    while (this.inFlight < this.maxConcurrency) {
      const now = this.clock.now();
      const queue = this.high.length > 0 ? this.high : this.normal;
      const head = queue[0];
      if (!head) return;
      if (head.notAfter <= now) {
        queue.shift();
        head.reject(new NotSentError("the deadline came before this call could be sent"));
        continue;
      }
      this.refill(now);
      if (this.tokens < 1) {
        const waitMs = Math.ceil(((1 - this.tokens) / this.rate) * 1000);
        this.cancelTimer = this.clock.after(Math.max(1, waitMs), () => this.pump());
        return;
      }
      this.tokens -= 1;
      queue.shift();
      head.start();
    }
  }
}

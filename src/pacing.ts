/**
 * Client-side pacing for every OCI call of a batch: a bounded number in flight, a token bucket
 * whose rate finds the service's limit (RateController: multiplicative growth until the first 429,
 * then AIMD around the limit), and two priorities so that state polls are not stuck behind a queue
 * of a thousand power actions. Calls that cannot start before their deadline are rejected with
 * DeadlineExceeded, never sent. `call` owns a request end to end: the queue, its timeout, and the
 * rate feedback from its answer, so no caller can forget to report a 429. OCI limits are per region:
 * one scheduler per region (each instance keeps its own state).
 */
import { type Clock, systemClock } from "./clock.js";
import { ComputeError, PowerError } from "./errors.js";

/**
 * Every pacing rule, in one place, with its reason. Rates are calls per second.
 * Measured against the emulator's token bucket (limit L/s, burst L) in bench/pacing.ts and in the
 * simulated service of test/unit/pacing-convergence.test.ts.
 */
export const PACING_RULES = {
  /**
   * Before the first 429 the rate is multiplied by this much per second in which it is what holds
   * the calls back (×3^(1/rate) per success). From the default 10/s it passes 100/s in about 2.1 s
   * (the old additive +1.5/s per second took a minute); the calls lost against starting at the
   * limit L are worth (ln(L/start) − 1 + start/L) / ln 3 seconds: 1.3 s for 100/s, 0.7 s for 50/s.
   */
  growthPerSecond: 3,
  /**
   * The first 429 halves the rate. The service's burst hides its limit until its bucket is empty,
   * so by then the rate has overshot it, by 2-3× with a one-second burst (less under the ceiling).
   */
  firstDecreaseFactor: 0.5,
  /** A later 429 (AIMD's multiplicative decrease): ×0.8, shallow, since the rate is near the limit. */
  decreaseFactor: 0.8,
  /**
   * ...but never above this share of the rate the service accepted since the previous decrease
   * when that window had 429s too: a token bucket with an empty bucket accepts exactly its limit
   * and refuses the rest, so that accepted rate measures the limit (this ends the overshoot of the
   * first 429 in one window instead of several ×0.8 steps, each costing 429s).
   */
  settleFactor: 0.95,
  /** No decrease cuts the rate below this share of itself (a window of few calls measures little). */
  deepestCut: 0.5,
  /**
   * At most one decrease per window: the 429s of calls already sent at the old rate are one
   * answer, not several. The window is this long plus one call interval (1/rate), as before: short,
   * because right after the first 429 the window is also the measurement, and every call sent in it
   * above the limit is a 429 (500 ms cost a third more 429s against a 50/s limit in simulation).
   */
  decreaseWindowMs: 250,
  /**
   * After the first 429 the rate grows additively: by this share of the rate at the last decrease,
   * per second. With ×0.8 that is a probe above the limit about every 4 s whatever the limit, each
   * costing one or two 429s: 2-3 % of the calls at 10/s, fewer above.
   */
  additiveStepShare: 0.05,
  /** …and by at least this much per second, so that a low rate still recovers. */
  minAdditiveStepPerSecond: 0.25,
  /**
   * Default ceiling: max(this, start × ceilingFactor). 200/s lets the default start of 10/s reach a
   * 100/s limit with room above it for AIMD's probing, and bounds the first overshoot to 2× there.
   */
  ceilingFloor: 200,
  ceilingFactor: 20,
  /** Default floor: 1 call per second (or the start, if lower). */
  minRate: 1,
} as const;

export interface PacingOptions {
  maxConcurrency: number;
  /** Requests per second to start with (function config POWER_MAX_RATE). */
  initialRate: number;
  /** Ceiling of the rate (default max(200, 20 × initialRate)). */
  maxRate?: number;
  /** Floor of the rate (default 1, or initialRate if lower). */
  minRate?: number;
  clock?: Clock;
}

/** "probe": multiplicative growth, no 429 seen yet; "aimd": additive increase, multiplicative decrease. */
export type PacingPhase = "probe" | "aimd";

/**
 * The rate, and how it moves with the service's answers (pure bookkeeping: the caller passes the
 * time in). One per scheduler, so one per region.
 */
export class RateController {
  private value: number;
  private phaseNow: PacingPhase = "probe";
  private readonly maxRate: number;
  private readonly minRate: number;
  /** Additive step (per second) once in AIMD; set from the rate settled at. */
  private stepPerSecond: number = PACING_RULES.minAdditiveStepPerSecond;
  private lastDecreaseAt: number | undefined;
  /** Since the last decrease (or the start): successes, 429s, and when it began. */
  private windowStart: number;
  private windowSuccesses = 0;
  private windowThrottles = 0;

  constructor(options: { initialRate: number; maxRate?: number; minRate?: number; now: number }) {
    const { initialRate } = options;
    this.value = initialRate;
    this.maxRate = Math.max(
      initialRate,
      options.maxRate ?? Math.max(PACING_RULES.ceilingFloor, initialRate * PACING_RULES.ceilingFactor),
    );
    this.minRate = Math.min(initialRate, options.minRate ?? PACING_RULES.minRate);
    this.windowStart = options.now;
  }

  get rate(): number {
    return this.value;
  }

  get phase(): PacingPhase {
    return this.phaseNow;
  }

  get ceiling(): number {
    return this.maxRate;
  }

  get floor(): number {
    return this.minRate;
  }

  /**
   * A call succeeded. `rateBound`: false when the calls waiting were held back by the concurrency
   * bound, not by the rate; then the rate is not what limits, and raising it would only store up a
   * burst for later.
   */
  succeeded(rateBound: boolean): void {
    this.windowSuccesses++;
    if (!rateBound) return;
    const next =
      this.phaseNow === "probe"
        ? // Under 1/s a success is more than a second apart: still at most one second's growth.
          this.value * PACING_RULES.growthPerSecond ** Math.min(1, 1 / this.value)
        : this.value + this.stepPerSecond / this.value;
    this.value = Math.min(this.maxRate, next);
  }

  /** The service answered 429: decrease, at most once per window. Returns whether it decreased. */
  throttled(now: number): boolean {
    this.windowThrottles++;
    const window = PACING_RULES.decreaseWindowMs + 1000 / this.value;
    if (this.lastDecreaseAt !== undefined && now - this.lastDecreaseAt < window) return false;
    let next: number;
    if (this.phaseNow === "probe") {
      next = this.value * PACING_RULES.firstDecreaseFactor;
      this.phaseNow = "aimd";
    } else {
      next = this.value * PACING_RULES.decreaseFactor;
      const elapsedMs = now - this.windowStart;
      // This 429 is counted already: the window measured the limit only if it had others.
      if (this.windowThrottles > 1 && elapsedMs > 0) {
        const accepted = (this.windowSuccesses * 1000) / elapsedMs;
        next = Math.min(next, accepted * PACING_RULES.settleFactor);
      }
      next = Math.max(next, this.value * PACING_RULES.deepestCut);
    }
    this.value = Math.min(this.maxRate, Math.max(this.minRate, next));
    this.stepPerSecond = Math.max(
      PACING_RULES.minAdditiveStepPerSecond,
      this.value * PACING_RULES.additiveStepShare,
    );
    this.lastDecreaseAt = now;
    this.windowStart = now;
    this.windowSuccesses = 0;
    this.windowThrottles = 0;
    return true;
  }
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
  private readonly controller: RateController;
  private readonly maxConcurrency: number;
  private readonly clock: Clock;
  private tokens = 1;
  private lastRefill: number;
  private inFlight = 0;
  private readonly high: Entry[] = [];
  private readonly normal: Entry[] = [];
  private cancelTimer: (() => void) | undefined;
  /** What held the queue back when the pump last stopped with calls still waiting. */
  private heldBy: "slots" | "tokens" | "nothing" = "nothing";
  private closedReason: string | undefined;
  /** Counters for logs and tests. */
  readonly stats = { started: 0, throttled: 0 };

  constructor(options: PacingOptions) {
    this.maxConcurrency = options.maxConcurrency;
    this.clock = options.clock ?? systemClock;
    this.lastRefill = this.clock.now();
    this.controller = new RateController({
      initialRate: options.initialRate,
      ...(options.maxRate === undefined ? {} : { maxRate: options.maxRate }),
      ...(options.minRate === undefined ? {} : { minRate: options.minRate }),
      now: this.lastRefill,
    });
  }

  get currentRate(): number {
    return this.controller.rate;
  }

  /** "probe" until the first 429, "aimd" after it. */
  get phase(): PacingPhase {
    return this.controller.phase;
  }

  /** The bounds the rate moves between (calls per second). */
  get rateBounds(): { min: number; max: number } {
    return { min: this.controller.floor, max: this.controller.ceiling };
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

  /**
   * A call succeeded: raise the rate (call() does this), unless calls are waiting for a free slot
   * with a token in hand: then the concurrency bound limits, not the rate.
   */
  succeeded(): void {
    this.controller.succeeded(this.heldBy !== "slots");
  }

  /** OCI answered 429: lower the rate (at most once per window) and drain the bucket (call() does this). */
  throttled(): void {
    this.stats.throttled++;
    this.tokens = Math.min(this.tokens, 0);
    this.controller.throttled(this.clock.now());
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
    const rate = this.controller.rate;
    // A quarter of a second's worth: a queue that was idle starts with a small burst, not a second's.
    const burst = Math.max(1, rate / 4);
    this.tokens = Math.min(burst, this.tokens + ((now - this.lastRefill) / 1000) * rate);
    this.lastRefill = now;
  }

  private pump(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (;;) {
      const queue = this.high.length > 0 ? this.high : this.normal;
      const head = queue[0];
      if (!head) {
        this.heldBy = "nothing";
        return;
      }
      if (this.inFlight >= this.maxConcurrency) {
        this.heldBy = "slots";
        return;
      }
      const now = this.clock.now();
      if (head.notAfter <= now) {
        queue.shift();
        head.reject(new NotSentError("the deadline came before this call could be sent"));
        continue;
      }
      this.refill(now);
      if (this.tokens < 1) {
        this.heldBy = "tokens";
        const waitMs = Math.ceil(((1 - this.tokens) / this.controller.rate) * 1000);
        this.cancelTimer = this.clock.after(Math.max(1, waitMs), () => this.pump());
        return;
      }
      this.tokens -= 1;
      queue.shift();
      head.start();
    }
  }
}

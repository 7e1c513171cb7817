/**
 * A simulated OCI service for pacing tests, run entirely on simulated time: a discrete-event clock
 * (SimClock, the scheduler's injected Clock) and a token-bucket rate limit that answers 429 like the
 * emulator's (retry-after rounded up to whole seconds). A batch of power actions is driven through a
 * CallScheduler the way action-sender.ts does (429 → retry after max(backoff, retry-after)), with
 * one high-priority state poll per second as the watcher adds. Throughput in simulated time is a
 * property of the algorithm, not of the machine: safe to assert on.
 */
import type { Clock } from "../../src/clock.js";
import { sleep } from "../../src/clock.js";
import { ComputeError } from "../../src/errors.js";
import { CallScheduler } from "../../src/pacing.js";
import { backoffMs, DEFAULT_RETRY_TUNING } from "../../src/retry.js";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Time moves only from one timer to the next; pending promise callbacks run before each step. */
export class SimClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers: Timer[] = [];

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  after(ms: number, fn: () => void): () => void {
    const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    // Sorted by time, then by creation: insert after every timer due at the same time or earlier.
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = this.timers[mid];
      if (other !== undefined && other.at <= timer.at) lo = mid + 1;
      else hi = mid;
    }
    this.timers.splice(lo, 0, timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Runs timers until `done()` or no timer is left; throws past `limitMs` of simulated time. */
  async runUntil(done: () => boolean, limitMs: number): Promise<void> {
    const end = this.t + limitMs;
    for (;;) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (done()) return;
      const next = this.timers.shift();
      if (next === undefined) return;
      if (next.cancelled) continue;
      if (next.at > end) throw new Error(`simulation ran past ${limitMs} ms of simulated time`);
      this.t = next.at;
      next.fn();
    }
  }
}

/** The emulator's rate limit (emulator/src/faults.ts): a bucket of `burst` tokens refilled at `perSecond`. */
export class TokenBucketService {
  private tokens: number;
  private at: number;
  accepted = 0;
  refused = 0;

  constructor(
    private readonly clock: Clock,
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly latencyMs: number,
  ) {
    this.tokens = burst;
    this.at = clock.now();
  }

  /** One call: answered after the latency, admitted (or refused with 429) when it arrives. */
  async call(): Promise<void> {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    const admitted = this.tokens >= 1;
    if (admitted) this.tokens -= 1;
    await sleep(this.clock, this.latencyMs);
    if (admitted) {
      this.accepted++;
      return;
    }
    this.refused++;
    const retryAfterS = Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond));
    throw new ComputeError("TooManyRequests", "Too many requests for the tenant.", {
      transient: true,
      status: 429,
      retryAfterMs: retryAfterS * 1000,
    });
  }
}

export interface SimulatedBatch {
  /** Simulated ms from the start until the last action was accepted. */
  wallMs: number;
  /** N ÷ limit, ms (the service's burst makes slightly less possible). */
  lowerBoundMs: number;
  accepted: number;
  throttled: number;
  /** Every call the service saw (actions, polls, 429s) ÷ actions. */
  callsPerAction: number;
  scheduler: CallScheduler;
  /** The scheduler's rate, sampled at each poll (once per simulated second). */
  rates: number[];
}

export async function simulateBatch(options: {
  actions: number;
  limitPerSecond: number;
  burst?: number;
  initialRate: number;
  maxConcurrency?: number;
  latencyMs?: number;
  /** For the retries' jitter; fixed so a run is reproducible. */
  seed?: number;
}): Promise<SimulatedBatch> {
  const clock = new SimClock();
  const service = new TokenBucketService(
    clock,
    options.limitPerSecond,
    options.burst ?? options.limitPerSecond,
    options.latencyMs ?? 20,
  );
  const scheduler = new CallScheduler({
    maxConcurrency: options.maxConcurrency ?? 16,
    initialRate: options.initialRate,
    clock,
  });
  let state = options.seed ?? 1;
  const random = (): number => {
    // Park–Miller: deterministic jitter.
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
  const start = clock.now();
  const notAfter = start + 300_000;
  let done = 0;
  let lastAcceptedAt = start;
  const action = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await scheduler.call(() => service.call(), { priority: "normal", timeoutMs: 20_000, notAfter });
        done++;
        lastAcceptedAt = clock.now();
        return;
      } catch (error) {
        if (!(error instanceof ComputeError)) throw error;
        const delay = Math.max(backoffMs(attempt, DEFAULT_RETRY_TUNING, random), error.retryAfterMs ?? 0);
        await sleep(clock, delay);
      }
    }
  };
  const rates: number[] = [];
  const poll = (): void => {
    rates.push(scheduler.currentRate);
    if (done >= options.actions) return;
    scheduler.call(() => service.call(), { priority: "high", timeoutMs: 20_000, notAfter }).catch(() => {});
    clock.after(1000, poll);
  };
  clock.after(1000, poll);
  const all = Promise.all(Array.from({ length: options.actions }, action));
  await clock.runUntil(() => done >= options.actions, 300_000);
  await all;
  return {
    wallMs: lastAcceptedAt - start,
    lowerBoundMs: (options.actions / options.limitPerSecond) * 1000,
    accepted: service.accepted,
    throttled: service.refused,
    callsPerAction: (service.accepted + service.refused) / options.actions,
    scheduler,
    rates,
  };
}

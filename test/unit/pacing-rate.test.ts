import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CallScheduler, PACING_RULES, RateController } from "../../src/pacing.js";

const T0 = 1_000_000;

/** Feeds one second's worth of successes (at the current rate); returns the rate after them. */
function oneSecondOfSuccesses(c: RateController): number {
  for (let elapsed = 0; elapsed < 1; elapsed += 1 / c.rate) c.succeeded(true);
  return c.rate;
}

describe("RateController", () => {
  it("grows multiplicatively before the first 429: each second of successes multiplies the rate", () => {
    const c = new RateController({ initialRate: 10, now: T0 });
    const rates = [c.rate];
    for (let s = 0; s < 2; s++) rates.push(oneSecondOfSuccesses(c));
    expect(c.phase).toBe("probe");
    const [r0 = 0, r1 = 0, r2 = 0] = rates;
    // The same factor each second (not the same step), about growthPerSecond.
    expect(r1 / r0).toBeGreaterThan(PACING_RULES.growthPerSecond * 0.9);
    expect(r2 / r1).toBeGreaterThan(PACING_RULES.growthPerSecond * 0.9);
    expect(r2 - r1).toBeGreaterThan(2 * (r1 - r0));
  });

  it("reaches 100/s from the default 10/s: the ceiling is above it", () => {
    const c = new RateController({ initialRate: 10, now: T0 });
    expect(c.ceiling).toBeGreaterThan(100);
    for (let s = 0; s < 3; s++) oneSecondOfSuccesses(c);
    expect(c.rate).toBeGreaterThan(100);
  });

  it("after the first 429 it decreases, then grows additively: the same step each second", () => {
    const c = new RateController({ initialRate: 40, now: T0 });
    const before = c.rate;
    expect(c.throttled(T0)).toBe(true);
    expect(c.phase).toBe("aimd");
    const after = c.rate;
    expect(after).toBeCloseTo(before * PACING_RULES.firstDecreaseFactor);
    const r1 = oneSecondOfSuccesses(c);
    const r2 = oneSecondOfSuccesses(c);
    const r3 = oneSecondOfSuccesses(c);
    const step = after * PACING_RULES.additiveStepShare;
    for (const increase of [r1 - after, r2 - r1, r3 - r2]) expect(increase).toBeCloseTo(step, 0);
  });

  it("a later 429 is AIMD's multiplicative decrease", () => {
    const c = new RateController({ initialRate: 40, now: T0 });
    c.throttled(T0);
    for (let s = 0; s < 5; s++) oneSecondOfSuccesses(c);
    const before = c.rate;
    expect(c.throttled(T0 + 5000)).toBe(true);
    expect(c.rate).toBeCloseTo(before * PACING_RULES.decreaseFactor);
  });

  it("a burst of 429s within one window decreases once; the next window may decrease again", () => {
    const c = new RateController({ initialRate: 100, now: T0 });
    // 30 answers spread over one window (after the first decrease to 50/s: 1/50 s + decreaseWindowMs).
    const windowMs = PACING_RULES.decreaseWindowMs + 1000 / 50;
    const decreased = Array.from({ length: 30 }, (_, i) => c.throttled(T0 + (i * windowMs) / 30));
    expect(decreased.filter(Boolean)).toHaveLength(1);
    expect(c.rate).toBeCloseTo(50);
    expect(c.throttled(T0 + windowMs)).toBe(true);
    expect(c.rate).toBeLessThan(50);
  });

  it("a window that had 429s measures the limit: the next decrease settles just under what was accepted", () => {
    const c = new RateController({ initialRate: 100, now: T0 });
    c.throttled(T0); // first 429: 100 → 50, still above a 30/s limit
    // One second at 50/s against a 30/s limit: 30 accepted, 20 refused (decreasing no further).
    for (let i = 0; i < 30; i++) c.succeeded(true);
    // The refusals of the calls in flight come back inside the window: no further decrease.
    for (let i = 0; i < 19; i++) expect(c.throttled(T0 + 1 + i * 5)).toBe(false);
    c.throttled(T0 + 1000);
    expect(c.rate).toBeCloseTo(30 * PACING_RULES.settleFactor, 0);
  });

  it("never exceeds the ceiling nor drops under the floor", () => {
    const c = new RateController({ initialRate: 10, now: T0 });
    for (let i = 0; i < 10_000; i++) c.succeeded(true);
    expect(c.rate).toBe(c.ceiling);
    expect(c.ceiling).toBe(Math.max(PACING_RULES.ceilingFloor, 10 * PACING_RULES.ceilingFactor));
    for (let i = 0; i < 100; i++) c.throttled(T0 + i * 10_000);
    expect(c.rate).toBe(c.floor);
    expect(c.floor).toBe(PACING_RULES.minRate);
    const bounded = new RateController({ initialRate: 10, maxRate: 30, minRate: 5, now: T0 });
    for (let i = 0; i < 10_000; i++) bounded.succeeded(true);
    expect(bounded.rate).toBe(30);
    for (let i = 0; i < 100; i++) bounded.throttled(T0 + i * 10_000);
    expect(bounded.rate).toBe(5);
  });

  it("a start under 1/s grows by at most one second's factor per success", () => {
    const c = new RateController({ initialRate: 0.2, now: T0 });
    c.succeeded(true);
    expect(c.rate).toBeCloseTo(0.2 * PACING_RULES.growthPerSecond);
  });

  it("does not grow when the rate is not what holds the calls back", () => {
    const c = new RateController({ initialRate: 10, now: T0 });
    for (let i = 0; i < 1000; i++) c.succeeded(false);
    expect(c.rate).toBe(10);
  });
});

describe("CallScheduler pacing", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const slow = (ms: number) => (): Promise<void> => new Promise((done) => setTimeout(done, ms));

  it("raises its rate while calls wait for tokens", async () => {
    const s = new CallScheduler({ maxConcurrency: 16, initialRate: 10 });
    const opts = { priority: "normal" as const, timeoutMs: 1000, notAfter: Date.now() + 60_000 };
    const all = Promise.all(Array.from({ length: 30 }, () => s.call(slow(5), opts)));
    await vi.runAllTimersAsync();
    await all;
    expect(s.phase).toBe("probe");
    expect(s.currentRate).toBeGreaterThan(20);
  });

  it("keeps its rate while the concurrency bound holds the calls back", async () => {
    const s = new CallScheduler({ maxConcurrency: 2, initialRate: 10 });
    const opts = { priority: "normal" as const, timeoutMs: 10_000, notAfter: Date.now() + 60_000 };
    // Each call takes a second: two slots allow 2/s, far under the 10/s rate.
    const all = Promise.all(Array.from({ length: 20 }, () => s.call(slow(1000), opts)));
    await vi.advanceTimersByTimeAsync(5000);
    expect(s.stats.started).toBeGreaterThan(6);
    expect(s.currentRate).toBe(10);
    await vi.runAllTimersAsync();
    await all;
    expect(s.rateBounds).toEqual({ min: 1, max: 200 });
  });
});

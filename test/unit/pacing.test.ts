import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ComputeError } from "../../src/errors.js";
import { CallScheduler, NotSentError } from "../../src/pacing.js";

// Fake timers: the scheduler's clock (the system clock, read at call time) and its timers are
// vitest's, so time only moves when the test moves it.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const throttle = (): ComputeError =>
  new ComputeError("TooManyRequests", "slow down", { transient: true, status: 429 });

describe("CallScheduler", () => {
  it("runs high-priority calls before queued normal ones", async () => {
    const s = new CallScheduler({ maxConcurrency: 1, initialRate: 1000 });
    const order: string[] = [];
    let release: () => void = () => {};
    const notAfter = Date.now() + 1000;
    const blocker = s.schedule(() => new Promise<void>((r) => (release = r)), {
      priority: "normal",
      notAfter,
    });
    const a = s.schedule(async () => order.push("normal"), { priority: "normal", notAfter });
    const b = s.schedule(async () => order.push("high"), { priority: "high", notAfter });
    await vi.advanceTimersByTimeAsync(5);
    expect(order).toEqual([]);
    release();
    await vi.runAllTimersAsync();
    await Promise.all([blocker, a, b]);
    expect(order).toEqual(["high", "normal"]);
  });

  it("rejects calls that cannot start before their deadline, and everything after close", async () => {
    const s = new CallScheduler({ maxConcurrency: 1, initialRate: 1000 });
    await expect(
      s.schedule(async () => 1, { priority: "normal", notAfter: Date.now() - 1 }),
    ).rejects.toBeInstanceOf(NotSentError);
    s.close("over");
    await expect(
      s.schedule(async () => 1, { priority: "high", notAfter: Date.now() + 1000 }),
    ).rejects.toMatchObject({ code: "DeadlineExceeded", message: "over" });
  });

  it("paces calls to its rate: each call waits for a token", async () => {
    const s = new CallScheduler({ maxConcurrency: 10, initialRate: 20 });
    const started: number[] = [];
    const t0 = Date.now();
    const all = Promise.all(
      Array.from({ length: 6 }, () =>
        s.schedule(async () => started.push(Date.now() - t0), { priority: "normal", notAfter: t0 + 5000 }),
      ),
    );
    await vi.runAllTimersAsync();
    await all;
    // 20/s from a fresh bucket (one token): one call every 50 ms.
    expect(started).toEqual([0, 50, 100, 150, 200, 250]);
  });

  it("call(): success raises the rate, a 429 lowers it and is rethrown", async () => {
    const s = new CallScheduler({ maxConcurrency: 4, initialRate: 10 });
    const opts = { priority: "normal" as const, timeoutMs: 1000, notAfter: Date.now() + 5000 };
    await expect(s.call(async () => "ok", opts)).resolves.toBe("ok");
    const raised = s.currentRate;
    expect(raised).toBeGreaterThan(10);
    const failed = s.call(async () => Promise.reject(throttle()), opts);
    const settled = expect(failed).rejects.toMatchObject({ code: "TooManyRequests" });
    await vi.runAllTimersAsync();
    await settled;
    expect(s.currentRate).toBeLessThan(raised);
    expect(s.stats).toEqual({ started: 2, throttled: 1 });
  });

  it("call(): other errors leave the rate alone", async () => {
    const s = new CallScheduler({ maxConcurrency: 4, initialRate: 10 });
    const opts = { priority: "high" as const, timeoutMs: 1000, notAfter: Date.now() + 5000 };
    const failure = new ComputeError("ServiceError", "boom", { transient: true, status: 500 });
    await expect(s.call(async () => Promise.reject(failure), opts)).rejects.toBe(failure);
    expect(s.currentRate).toBe(10);
    expect(s.stats.throttled).toBe(0);
  });

  it("call(): the timeout starts when the request starts and is cut to notAfter", async () => {
    const s = new CallScheduler({ maxConcurrency: 1, initialRate: 1000 });
    const t0 = Date.now();
    const abortedAt: number[] = [];
    const hang = (signal: AbortSignal): Promise<never> =>
      new Promise((_, reject) => {
        signal.addEventListener("abort", () => {
          abortedAt.push(Date.now() - t0);
          reject(new Error("aborted"));
        });
      });
    const own = s.call(hang, { priority: "normal", timeoutMs: 100, notAfter: t0 + 10_000 });
    const cut = s.call(hang, { priority: "normal", timeoutMs: 10_000, notAfter: t0 + 300 });
    const both = Promise.allSettled([own, cut]);
    await vi.runAllTimersAsync();
    await both;
    // The second waited 100 ms in the queue (one slot), then ran until notAfter (200 ms more).
    expect(abortedAt).toEqual([100, 300]);
  });

  it("call(): a call that cannot start by notAfter is NotSentError and not counted", async () => {
    const s = new CallScheduler({ maxConcurrency: 1, initialRate: 1000 });
    const fn = vi.fn(async () => 1);
    await expect(
      s.call(fn, { priority: "high", timeoutMs: 100, notAfter: Date.now() - 1 }),
    ).rejects.toBeInstanceOf(NotSentError);
    expect(fn).not.toHaveBeenCalled();
    expect(s.stats.started).toBe(0);
  });
});

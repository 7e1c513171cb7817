import { describe, expect, it } from "vitest";
import { CallScheduler, NotSentError } from "../../src/pacing.js";

describe("CallScheduler", () => {
  it("runs high-priority calls before queued normal ones", async () => {
    const s = new CallScheduler({ maxConcurrency: 1, initialRate: 1000 });
    const order: string[] = [];
    let release: () => void = () => {};
    const blocker = s.schedule(() => new Promise<void>((r) => (release = r)), {
      priority: "normal",
      notAfter: Date.now() + 1000,
    });
    const a = s.schedule(async () => order.push("normal"), {
      priority: "normal",
      notAfter: Date.now() + 1000,
    });
    const b = s.schedule(async () => order.push("high"), { priority: "high", notAfter: Date.now() + 1000 });
    await new Promise((r) => setTimeout(r, 5));
    release();
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
    ).rejects.toMatchObject({
      code: "DeadlineExceeded",
    });
  });

  it("paces calls to its rate, lowers it on 429 and raises it on success", async () => {
    const s = new CallScheduler({ maxConcurrency: 10, initialRate: 20 });
    const started: number[] = [];
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 6 }, () =>
        s.schedule(async () => started.push(Date.now() - t0), { priority: "normal", notAfter: t0 + 5000 }),
      ),
    );
    // 20/s with a burst of at most 5 → the 6th call cannot start immediately.
    expect(Math.max(...started)).toBeGreaterThanOrEqual(30);
    const before = s.currentRate;
    s.throttled();
    expect(s.currentRate).toBeLessThan(before);
    const lowered = s.currentRate;
    s.succeeded();
    expect(s.currentRate).toBeGreaterThan(lowered);
  });
});

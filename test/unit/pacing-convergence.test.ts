import { describe, expect, it } from "vitest";
import { simulateBatch } from "../helpers/simulated-service.js";

// A token-bucket service on simulated time (no timers, no machine speed involved): 1,000 power
// actions plus one state poll a second, from the default start of 10/s, as bench/pacing.ts does
// against the emulator. Throughput here is the algorithm's, so it is asserted.
describe("CallScheduler against a rate-limited service (simulated time)", () => {
  it.each([10, 20, 50, 100])(
    "finds a limit of %i/s: throughput within 10 %, 429s under 5 %",
    async (limit) => {
      const run = await simulateBatch({
        actions: 1000,
        limitPerSecond: limit,
        initialRate: 10,
        latencyMs: 20,
      });
      // Every call the service accepted (actions and polls) over the time it took.
      const throughput = (run.accepted * 1000) / run.wallMs;
      expect(throughput).toBeGreaterThan(limit * 0.9);
      expect(run.throttled / (run.accepted + run.throttled)).toBeLessThan(0.05);
      // After the first seconds the rate stays around the limit (sampled once a simulated second).
      for (const rate of run.rates.slice(5)) {
        expect(rate).toBeGreaterThan(limit * 0.7);
        expect(rate).toBeLessThan(limit * 1.3);
      }
    },
  );

  it("stays at the concurrency bound when that is what limits (no runaway to the ceiling)", async () => {
    // 16 in flight × 100 ms = 160/s at most, under a 1,000/s limit.
    const run = await simulateBatch({
      actions: 1000,
      limitPerSecond: 1000,
      initialRate: 10,
      latencyMs: 100,
    });
    expect(run.throttled).toBe(0);
    expect(run.scheduler.phase).toBe("probe");
    expect(run.scheduler.currentRate).toBeLessThan(run.scheduler.rateBounds.max);
  });
});

/**
 * Fault storm: 500 instances in one start-compute call through the built bundle while about a third
 * of the OCI calls fail (429 with retry-after, 500, 503, connections dropped before and after
 * processing), some STARTs hit "Out of host capacity." and some instances are held in STOPPING.
 * Nothing is lost, every failure carries the right code, and the call log shows no second power
 * action except replays of the same retry token.
 */
import { describe, expect, it } from "vitest";
import type { Faults } from "../../emulator/src/index.js";
import { useWorld } from "../helpers/world.js";
import { accountingProblems, secondActionViolations, suiteSeed } from "./harness.js";

const COMP = "ocid1.compartment.oc1..storm";
const SEED = suiteSeed();
/** Failures a transient fault may leave after retries run out (never expected with this budget). */
const TRANSIENT_CODES = ["TooManyRequests", "ServiceError", "NetworkError"];

const world = useWorld({ timeScale: 0.002, functions: [] });

describe("fault storm", () => {
  it(`500 instances, ~30% of OCI calls failing, capacity and held transitions (seed ${SEED})`, async () => {
    const put = (n: number, lifecycleState: string) =>
      world.emu.admin.putInstances(
        Array.from({ length: n }, () => ({ compartmentId: COMP, lifecycleState })),
      );
    const stopped = (await put(350, "STOPPED")).map((i) => i.id);
    const running = (await put(40, "RUNNING")).map((i) => i.id);
    const starting = (await put(25, "STARTING")).map((i) => i.id);
    const full = (await put(25, "STOPPED")).map((i) => i.id);
    const held = (await put(60, "RUNNING")).map((i) => i.id);
    // Interleave the kinds so that every page of the listing and every pool slot sees a mix.
    const groups = [stopped, running, starting, full, held];
    const ids: string[] = [];
    for (let i = 0; ids.length < 500; i++) for (const g of groups) if (g[i]) ids.push(g[i] ?? "");

    const storm = (round: number): Faults => ({
      rateLimit: { perSecond: 40, burst: 5 },
      errorRate: { fraction: 0.15, statuses: [500, 503] },
      // Alternate drops before and after processing during the call.
      dropRate: { fraction: 0.08, afterProcessing: round % 2 === 1 },
      outOfCapacity: { instanceIds: full },
      hold: { instanceIds: held, ms: 1500 },
      seed: SEED + round,
    });
    await world.emu.admin.setFaults(storm(0));
    // Held in STOPPING: a transition begun while the hold is set lasts 1.5 s longer.
    for (const id of held) await world.emu.admin.patchInstance(id, { lifecycleState: "STOPPING" });

    const start = await world.fn("start");
    const { next } = await world.emu.admin.calls();
    let round = 0;
    let flipping: Promise<unknown> = Promise.resolve();
    const flipper = setInterval(() => {
      round++;
      flipping = world.emu.admin.setFaults(storm(round)).catch(() => undefined);
    }, 300);
    let res: Awaited<ReturnType<typeof world.call>>;
    try {
      res = await world.call(start, { instance_ids: ids }, { budgetMs: 120_000 });
    } finally {
      clearInterval(flipper);
      await flipping;
    }
    await world.emu.admin.setFaults({});
    const { calls } = await world.emu.admin.calls(next);

    // The storm was real: about 30% of the OCI calls failed, of every kind.
    const failedCalls = calls.filter((c) => c.status === 0 || c.status === 429 || c.status >= 500);
    const share = failedCalls.length / calls.length;
    const kinds = new Set(calls.map((c) => c.fault).filter((f) => f !== undefined));
    expect(share, `${failedCalls.length}/${calls.length} OCI calls failed`).toBeGreaterThanOrEqual(0.2);
    expect([...kinds]).toEqual(
      expect.arrayContaining(["drop", "dropAfter", "errorRate", "outOfCapacity", "rateLimit"]),
    );
    expect(calls.map((c) => c.status)).toContain(429);
    expect(calls).toContainEqual(expect.objectContaining({ status: 500, fault: "errorRate" }));
    expect(calls.map((c) => c.status)).toContain(503);
    expect(calls.filter((c) => c.status === 0).length).toBeGreaterThan(0);

    // Nothing lost: every id exactly once, the summary adds up.
    expect(start.alive).toBe(true);
    expect(res.status).toBe(200);
    expect(accountingProblems(res.body, ids)).toEqual([]);

    // Every instance is in its target state, or failed with the right code.
    const results = res.body.results ?? [];
    const stored = new Map((await world.emu.admin.listInstances()).map((i) => [i.id, i.lifecycleState]));
    const wrong: string[] = [];
    for (const r of results) {
      const now = stored.get(r.target_id);
      if (full.includes(r.target_id)) {
        if (r.outcome !== "failed" || r.error?.code !== "OutOfHostCapacity" || now !== "STOPPED")
          wrong.push(`${r.instance_id} (capacity): ${r.outcome} ${r.error?.code} now ${now}`);
      } else if (r.outcome === "changed" || r.outcome === "unchanged") {
        if (now !== "RUNNING" || r.state_after !== "RUNNING")
          wrong.push(`${r.instance_id}: ${r.outcome} but now ${now}, reported ${r.state_after}`);
      } else if (r.outcome === "failed") {
        if (!TRANSIENT_CODES.includes(r.error?.code ?? ""))
          wrong.push(`${r.instance_id}: failed with ${r.error?.code}: ${r.error?.message}`);
      } else {
        wrong.push(`${r.instance_id}: ${r.outcome} despite a generous deadline`);
      }
      if (running.includes(r.target_id) && r.outcome !== "unchanged")
        wrong.push(`${r.instance_id} (running): ${r.outcome}`);
      if (starting.includes(r.target_id) && r.outcome !== "unchanged")
        wrong.push(`${r.instance_id} (starting): ${r.outcome}`);
      if (held.includes(r.target_id) && r.outcome === "changed" && r.state_before !== "STOPPING")
        wrong.push(`${r.instance_id} (held): state_before ${r.state_before}`);
    }
    expect(wrong).toEqual([]);
    expect(res.body.summary?.failed).toBe(results.filter((r) => r.outcome === "failed").length);
    // The held ones were waited out, then started.
    expect(results.filter((r) => held.includes(r.target_id) && r.outcome === "changed").length).toBe(
      held.length,
    );
    // Capacity failures are not retried forever: one START each (a 500 with that message is final).
    for (const id of full) {
      const starts = calls.filter(
        (c) => c.instanceId === id && c.operation === "InstanceAction" && c.fault === "outOfCapacity",
      );
      expect(starts.length, id).toBe(1);
    }

    // No instance received a second power action except replays of the same retry token.
    expect(secondActionViolations(calls, ids)).toEqual([]);
    expect(calls).toContainEqual(expect.objectContaining({ operation: "InstanceAction", replayed: true }));
  });
});

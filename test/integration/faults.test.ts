/**
 * Each fault kind the emulator injects, through the built bundle: 429 with retry-after, 5xx,
 * out of host capacity, a held transition, dropped connections (before and after processing).
 * Nothing is lost, and no instance gets a second power action except retries with the same token.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { CallRecord } from "../../emulator/src/index.js";
import { useWorld } from "../helpers/world.js";

const COMP = "ocid1.compartment.oc1..faults";

const world = useWorld({ timeScale: 0.01, functions: ["start"] });
afterEach(async () => await world.emu.admin.setFaults({}));

async function fleet(n: number, state = "STOPPED"): Promise<string[]> {
  const made = await world.emu.admin.putInstances(
    Array.from({ length: n }, () => ({ compartmentId: COMP, lifecycleState: state })),
  );
  return made.map((i) => i.id);
}

/** Per instance: power actions that started a transition, and the tokens of all its actions. */
function expectNoSecondAction(calls: CallRecord[], ids: string[]): void {
  for (const id of ids) {
    const actions = calls.filter((c) => c.operation === "InstanceAction" && c.instanceId === id);
    expect(actions.filter((c) => c.transition).length, id).toBeLessThanOrEqual(1);
    // Retries after transient failures reuse the token; only a 409 (definite answer) changes it.
    const tokens: string[] = [];
    for (const c of actions) {
      const last = tokens.at(-1);
      if (c.retryToken && c.retryToken !== last) tokens.push(c.retryToken);
    }
    const conflicts = actions.filter((c) => c.status === 409).length;
    expect(tokens.length, id).toBeLessThanOrEqual(1 + conflicts);
  }
}

describe("fault kinds", () => {
  it("429 TooManyRequests: paced and retried with the same token, everything starts", async () => {
    const ids = await fleet(12);
    await world.emu.admin.setFaults({ rateLimit: { perSecond: 8, burst: 2 } });
    const { next } = await world.emu.admin.calls();
    const res = await world.call(world.start, { instance_ids: ids });
    expect(res.body.summary).toMatchObject({ requested: 12, changed: 12 });
    const { calls } = await world.emu.admin.calls(next);
    expect(calls.map((c) => c.status)).toContain(429);
    expectNoSecondAction(calls, ids);
  });

  it("5xx (500, 503): retried, everything starts", async () => {
    const ids = await fleet(10);
    await world.emu.admin.setFaults({ errorRate: { fraction: 0.4, statuses: [500, 503] }, seed: 3 });
    const { next } = await world.emu.admin.calls();
    const res = await world.call(world.start, { instance_ids: ids });
    expect(res.body.summary).toMatchObject({ requested: 10, changed: 10 });
    const { calls } = await world.emu.admin.calls(next);
    expect(Math.max(...calls.map((c) => c.status))).toBeGreaterThanOrEqual(500);
    expectNoSecondAction(calls, ids);
  });

  it('"Out of host capacity.": failed OutOfHostCapacity without endless retries; the others start', async () => {
    const [full, fine] = await fleet(2);
    await world.emu.admin.setFaults({ outOfCapacity: { instanceIds: [full ?? ""] } });
    const { next } = await world.emu.admin.calls();
    const res = await world.call(world.start, { instance_ids: [full, fine] });
    expect(res.gatewayStatus).toBe(502);
    expect(res.body).toMatchObject({
      ok: false,
      results: [
        { instance_id: full, outcome: "failed", error: { code: "OutOfHostCapacity", status: 500 } },
        { instance_id: fine, outcome: "changed" },
      ],
    });
    expect(res.body.message).toMatch(/OutOfHostCapacity/);
    const { calls } = await world.emu.admin.calls(next);
    expect(calls.filter((c) => c.operation === "InstanceAction" && c.instanceId === full)).toHaveLength(1);
  });

  it("a held transition is waited out", async () => {
    const [id] = await fleet(1);
    await world.emu.admin.setFaults({ hold: { instanceIds: [id ?? ""], ms: 1500 } });
    const res = await world.call(world.start, { instance_id: id });
    expect(res.body).toMatchObject({ ok: true, results: [{ outcome: "changed", state_after: "RUNNING" }] });
  });

  it("dropped connections after processing: retried with the same token, replayed, one transition each", async () => {
    const ids = await fleet(8);
    await world.emu.admin.setFaults({ dropRate: { fraction: 0.35, afterProcessing: true }, seed: 11 });
    const { next } = await world.emu.admin.calls();
    const res = await world.call(world.start, { instance_ids: ids });
    expect(res.body.results).toHaveLength(8);
    for (const r of res.body.results ?? []) {
      const state = (await world.emu.admin.getInstance(r.target_id)).lifecycleState;
      // Changed means RUNNING; in_progress (a lost answer) must say why, and the start did happen.
      if (r.outcome === "changed") expect(state, r.instance_id).toBe("RUNNING");
      else {
        expect(r).toMatchObject({ outcome: "in_progress", error: { code: expect.any(String) } });
        expect(["STARTING", "RUNNING"]).toContain(state);
      }
    }
    const { calls } = await world.emu.admin.calls(next);
    expect(calls.map((c) => c.status)).toContain(0);
    expectNoSecondAction(calls, ids);
  });

  it("dropped connections before processing: retried, everything starts", async () => {
    const ids = await fleet(8);
    await world.emu.admin.setFaults({ dropRate: { fraction: 0.35 }, seed: 5 });
    const res = await world.call(world.start, { instance_ids: ids });
    expect(res.body.summary).toMatchObject({ requested: 8, changed: 8 });
  });

  it("a storm of everything at once: every instance accounted for, summary adds up", async () => {
    const ids = await fleet(40);
    const held = ids.slice(0, 3);
    await world.emu.admin.setFaults({
      rateLimit: { perSecond: 40, burst: 10 },
      errorRate: { fraction: 0.15, statuses: [500, 503] },
      dropRate: { fraction: 0.1, afterProcessing: true },
      outOfCapacity: { instanceIds: [ids[5] ?? ""] },
      hold: { instanceIds: held, ms: 1000 },
      seed: 9,
    });
    const { next } = await world.emu.admin.calls();
    const res = await world.call(world.start, { instance_ids: ids }, { budgetMs: 60_000 });
    const s = res.body.summary;
    expect(s && s.changed + s.unchanged + s.in_progress + s.failed + s.planned).toBe(40);
    expect(res.body.results?.map((r) => r.instance_id)).toEqual(ids);
    for (const r of res.body.results ?? []) {
      if (r.instance_id === ids[5])
        expect(r).toMatchObject({ outcome: "failed", error: { code: "OutOfHostCapacity" } });
      else if (r.outcome === "changed")
        expect((await world.emu.admin.getInstance(r.target_id)).lifecycleState).toBe("RUNNING");
      else
        expect(r).toMatchObject({
          outcome: expect.stringMatching(/^(failed|in_progress)$/),
          error: { code: expect.any(String), message: expect.any(String) },
        });
    }
    const { calls } = await world.emu.admin.calls(next);
    expectNoSecondAction(calls, ids);
  });
});

/**
 * start-compute and stop-compute as built bundles, through the Fn protocol, against the emulator.
 */
import { describe, expect, it } from "vitest";
import { useWorld } from "../helpers/world.js";

const DEV = "ocid1.compartment.oc1..dev";
const OPS = "ocid1.compartment.oc1..ops";

const world = useWorld({ timeScale: 0.01 });

async function put(state: string, compartmentId = DEV, extra: Record<string, unknown> = {}): Promise<string> {
  const [i] = await world.emu.admin.putInstances([{ compartmentId, lifecycleState: state, ...extra }]);
  return i?.id ?? "";
}

async function actionsOn(id: string) {
  const { calls } = await world.emu.admin.calls();
  return calls.filter((c) => c.operation === "InstanceAction" && c.instanceId === id);
}

describe("start-compute / stop-compute through the Fn protocol", () => {
  it("starts a stopped instance and waits for RUNNING (200, one START with a retry token)", async () => {
    const id = await put("STOPPED");
    const res = await world.call(world.start, { instance_id: id }, { callId: "call-start-1" });
    expect(res.status).toBe(200);
    expect(res.gatewayStatus).toBe(200);
    expect(res.body).toMatchObject({
      action: "START",
      ok: true,
      summary: { requested: 1, changed: 1 },
      results: [{ instance_id: id, outcome: "changed", state_before: "STOPPED", state_after: "RUNNING" }],
    });
    expect((await world.emu.admin.getInstance(id)).lifecycleState).toBe("RUNNING");
    const actions = await actionsOn(id);
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ action: "START", status: 200, transition: true });
    expect(actions[0]?.retryToken).toBeTruthy();
    const outcomes = world.logs.filter((l) => l.includes('"instance outcome"'));
    expect(outcomes).toContainEqual(expect.stringContaining('"call_id":"call-start-1"'));
  });

  it("stops with SOFTSTOP by default and with STOP when asked", async () => {
    const a = await put("RUNNING");
    const b = await put("RUNNING");
    const soft = await world.call(world.stop, { instance_id: a });
    expect(soft.body).toMatchObject({
      action: "SOFTSTOP",
      ok: true,
      results: [{ outcome: "changed", state_after: "STOPPED" }],
    });
    const hard = await world.call(world.stop, { instance_id: b, action: "STOP" });
    expect(hard.body).toMatchObject({
      action: "STOP",
      ok: true,
      results: [{ outcome: "changed", state_after: "STOPPED" }],
    });
    expect((await actionsOn(a))[0]?.action).toBe("SOFTSTOP");
    expect((await actionsOn(b))[0]?.action).toBe("STOP");
  });

  it("already in the target state: unchanged and no power action", async () => {
    const id = await put("RUNNING");
    const res = await world.call(world.start, { instance_id: id });
    expect(res.body).toMatchObject({
      ok: true,
      results: [{ outcome: "unchanged", state_before: "RUNNING" }],
    });
    expect(await actionsOn(id)).toHaveLength(0);
  });

  it("in the opposite transition: waits for STOPPING to end, then starts", async () => {
    const id = await put("RUNNING");
    await world.emu.admin.patchInstance(id, { lifecycleState: "STOPPING" });
    const res = await world.call(world.start, { instance_id: id });
    expect(res.body).toMatchObject({
      ok: true,
      results: [{ outcome: "changed", state_before: "STOPPING", state_after: "RUNNING" }],
    });
    expect(await actionsOn(id)).toHaveLength(1);
  });

  it("a batch by ids over two compartments: all started, few API calls per instance", async () => {
    const ids = [
      ...(await world.emu.admin.putInstances(
        Array.from({ length: 20 }, () => ({ compartmentId: DEV, lifecycleState: "STOPPED" })),
      )),
      ...(await world.emu.admin.putInstances(
        Array.from({ length: 20 }, () => ({ compartmentId: OPS, lifecycleState: "STOPPED" })),
      )),
    ].map((i) => i.id);
    const { next } = await world.emu.admin.calls();
    const res = await world.call(world.start, { instance_ids: ids });
    expect(res.body.summary).toMatchObject({ requested: 40, changed: 40, failed: 0 });
    expect(res.body.results?.map((r) => r.instance_id)).toEqual(ids);
    const { calls } = await world.emu.admin.calls(next);
    expect(calls.filter((c) => c.operation === "InstanceAction")).toHaveLength(40);
    expect(calls.length / 40).toBeLessThan(1.5);
  });

  it("selection by compartment and tags (freeform and defined), TERMINATED left out", async () => {
    const compartmentId = "ocid1.compartment.oc1..tagged";
    const [match, other, defined, gone] = await world.emu.admin.putInstances([
      { compartmentId, lifecycleState: "RUNNING", freeformTags: { Schedule: "office-hours" } },
      { compartmentId, lifecycleState: "RUNNING", freeformTags: { Schedule: "always-on" } },
      {
        compartmentId,
        lifecycleState: "RUNNING",
        freeformTags: { Schedule: "office-hours" },
        definedTags: { Operations: { CostCenter: "42" } },
      },
      { compartmentId, lifecycleState: "TERMINATED", freeformTags: { Schedule: "office-hours" } },
    ]);
    const res = await world.call(world.stop, {
      compartment_id: compartmentId,
      freeform_tags: { Schedule: "office-hours" },
    });
    expect(res.body.results?.map((r) => r.instance_id).sort()).toEqual([match?.id, defined?.id].sort());
    expect(res.body.summary).toMatchObject({ requested: 2, changed: 2 });
    expect((await world.emu.admin.getInstance(other?.id ?? "")).lifecycleState).toBe("RUNNING");
    expect((await world.emu.admin.getInstance(gone?.id ?? "")).lifecycleState).toBe("TERMINATED");
    await world.emu.admin.patchInstance(defined?.id ?? "", { lifecycleState: "RUNNING" });
    const byDefined = await world.call(world.stop, {
      compartment_id: compartmentId,
      defined_tags: { Operations: { CostCenter: "42" } },
    });
    expect(byDefined.body.results?.map((r) => r.instance_id)).toEqual([defined?.id]);
  });

  it("dry run: reports planned actions and sends none", async () => {
    const a = await put("STOPPED");
    const b = await put("RUNNING");
    const res = await world.call(world.start, { instance_ids: [a, b], dry_run: true });
    expect(res.body).toMatchObject({
      dry_run: true,
      ok: true,
      summary: { requested: 2, planned: 1, unchanged: 1 },
      results: [
        { instance_id: a, outcome: "planned" },
        { instance_id: b, outcome: "unchanged" },
      ],
    });
    expect(await actionsOn(a)).toHaveLength(0);
  });

  it("wait: false answers as soon as the action is accepted (202 in progress)", async () => {
    const id = await put("STOPPED");
    const res = await world.call(world.start, { instance_id: id, wait: false });
    expect(res.body).toMatchObject({
      ok: true,
      results: [{ outcome: "in_progress", state_after: "STARTING" }],
    });
    expect(res.gatewayStatus).toBe(202);
  });

  it("a missing instance and a terminated one fail with clear codes (502), the others still run", async () => {
    const good = await put("STOPPED");
    const terminated = await put("TERMINATED");
    const missing = "ocid1.instance.oc1.iad.doesnotexist";
    const res = await world.call(world.start, { instance_ids: [good, terminated, missing] });
    expect(res.gatewayStatus).toBe(502);
    expect(res.body).toMatchObject({
      ok: false,
      summary: { requested: 3, changed: 1, failed: 2 },
      results: [
        { instance_id: good, outcome: "changed" },
        { instance_id: terminated, outcome: "failed", error: { code: "InstanceTerminated" } },
        { instance_id: missing, outcome: "failed", error: { code: "NotAuthorizedOrNotFound", status: 404 } },
      ],
    });
    expect(res.body.results?.[2]?.error?.opc_request_id).toBeTruthy();
  });

  it("timeout_seconds bounds the wait: instances still moving are in_progress", async () => {
    await world.emu.admin.setTimings({ durationsMs: { START: 1_000_000 } });
    try {
      const id = await put("STOPPED");
      const t0 = Date.now();
      const res = await world.call(world.start, { instance_id: id, timeout_seconds: 1 });
      expect(res.body).toMatchObject({ ok: true, summary: { in_progress: 1 } });
      expect(res.gatewayStatus).toBe(202);
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await world.emu.admin.setTimings({ durationsMs: { START: 30_000 } });
    }
  });

  it("Fn-Deadline bounds the invocation: answered before it, in_progress for what is moving", async () => {
    await world.emu.admin.setTimings({ durationsMs: { SOFTSTOP: 1_000_000 } });
    try {
      const id = await put("RUNNING");
      const deadline = new Date(Date.now() + 2500);
      const res = await world.call(world.stop, { instance_id: id }, { deadline, graceMs: 0 });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        ok: true,
        results: [{ outcome: "in_progress", state_after: "STOPPING" }],
      });
    } finally {
      await world.emu.admin.setTimings({ durationsMs: { SOFTSTOP: 60_000 } });
    }
  });
});

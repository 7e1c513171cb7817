/**
 * The other kinds through the built bundles over the Fn protocol against the emulator (real SDK
 * clients, real signing): instance pools with their members, OKE node pools scaled to zero and back
 * through the power-previous-size tag, container instances, mixed target_ids, dry run, idempotent
 * second calls, a failing work request, and a compartment selection by kinds.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { FnProcess } from "../../emulator/src/fn-agent.js";
import { useWorld } from "../helpers/world.js";

const DEV = "ocid1.compartment.oc1..kinds";

const world = useWorld({ timeScale: 0.01, functions: [] });
let start: FnProcess;
let stop: FnProcess;

beforeAll(async () => {
  // OCI_ENDPOINT alone (OCI_COMPUTE_ENDPOINT empty) sends every service's calls to the emulator.
  const env = { OCI_ENDPOINT: world.emu.url, OCI_COMPUTE_ENDPOINT: "" };
  start = await world.fn("start", env);
  stop = await world.fn("stop", env);
});

async function calls(operation: string, targetId: string) {
  const { calls: all } = await world.emu.admin.calls();
  return all.filter((c) => c.operation === operation && c.targetId === targetId);
}

async function nodePool(fields: Record<string, unknown>): Promise<string> {
  const [pool] = await world.emu.admin.putNodePools([{ compartmentId: DEV, name: "workers", ...fields }]);
  return pool?.id ?? "";
}

describe("OKE node pools", () => {
  it("stop records the size in the tag and scales to 0 in one UpdateNodePool; start scales back", async () => {
    const id = await nodePool({ size: 3, freeformTags: { team: "k8s" } });
    const stopped = await world.call(stop, { target_id: id });
    expect(stopped.body).toMatchObject({
      ok: true,
      results: [{ target_id: id, kind: "node_pool", outcome: "changed", state_after: "STOPPED", size: 0 }],
    });
    expect(stopped.body.results?.[0]).not.toHaveProperty("instance_id");
    const after = await world.emu.admin.getNodePool(id);
    expect(after.nodeConfigDetails.size).toBe(0);
    expect(after.nodes).toEqual([]);
    expect(after.freeformTags).toEqual({ team: "k8s", "power-previous-size": "3" });
    expect(await calls("UpdateNodePool", id)).toHaveLength(1);

    const again = await world.call(stop, { target_id: id });
    expect(again.body.results?.[0]).toMatchObject({ outcome: "unchanged", state_before: "STOPPED" });
    expect(await calls("UpdateNodePool", id)).toHaveLength(1);

    const started = await world.call(start, { target_id: id });
    expect(started.body.results?.[0]).toMatchObject({ outcome: "changed", state_after: "RUNNING", size: 3 });
    const back = await world.emu.admin.getNodePool(id);
    expect(back.nodes.map((n) => n.lifecycleState)).toEqual(["ACTIVE", "ACTIVE", "ACTIVE"]);
    expect(back.freeformTags.team).toBe("k8s");
    expect(await calls("UpdateNodePool", id)).toHaveLength(2);
  });

  it("start with no recorded size fails NoRecordedSize; a request size starts it", async () => {
    const id = await nodePool({ size: 0 });
    const refused = await world.call(start, { target_id: id });
    expect(refused.body.results?.[0]).toMatchObject({
      outcome: "failed",
      error: { code: "NoRecordedSize", message: expect.stringContaining("power-previous-size") },
    });
    expect(await calls("UpdateNodePool", id)).toHaveLength(0);
    const sized = await world.call(start, { target_id: id, size: 2 });
    expect(sized.body.results?.[0]).toMatchObject({ outcome: "changed", size: 2 });
    expect((await world.emu.admin.getNodePool(id)).nodes).toHaveLength(2);
  });

  it("a FAILED work request fails the target with WorkRequestFailed and its error", async () => {
    const id = await nodePool({ size: 0, freeformTags: { "power-previous-size": "2" } });
    await world.emu.admin.setFaults({ outOfCapacity: { instanceIds: [id] } });
    try {
      const res = await world.call(start, { target_id: id });
      expect(res.body).toMatchObject({ ok: false });
      expect(res.body.results?.[0]).toMatchObject({
        kind: "node_pool",
        outcome: "failed",
        error: { code: "WorkRequestFailed", message: expect.stringContaining("Out of host capacity") },
      });
    } finally {
      await world.emu.admin.setFaults({});
    }
  });
});

describe("instance pools", () => {
  it("stop soft-stops the pool (members stop with it), STOP stops, start starts; second start is unchanged", async () => {
    const [pool] = await world.emu.admin.putInstancePools([{ compartmentId: DEV, size: 2 }]);
    const id = pool?.id ?? "";
    const soft = await world.call(stop, { target_id: id });
    expect(soft.body.results?.[0]).toMatchObject({
      target_id: id,
      kind: "instance_pool",
      outcome: "changed",
      state_before: "RUNNING",
      state_after: "STOPPED",
    });
    expect(await calls("SoftstopInstancePool", id)).toHaveLength(1);
    const members = (await world.emu.admin.getInstancePool(id)).instanceIds;
    for (const m of members) expect((await world.emu.admin.getInstance(m)).lifecycleState).toBe("STOPPED");

    const started = await world.call(start, { target_id: id });
    expect(started.body.results?.[0]).toMatchObject({ outcome: "changed", state_after: "RUNNING" });
    for (const m of members) expect((await world.emu.admin.getInstance(m)).lifecycleState).toBe("RUNNING");
    const again = await world.call(start, { target_id: id });
    expect(again.body.results?.[0]).toMatchObject({ outcome: "unchanged" });
    expect(await calls("StartInstancePool", id)).toHaveLength(1);
    expect((await calls("StartInstancePool", id))[0]?.retryToken).toBeTruthy();

    const hard = await world.call(stop, { target_id: id, action: "STOP" });
    expect(hard.body.results?.[0]).toMatchObject({ outcome: "changed", state_after: "STOPPED" });
    expect(await calls("StopInstancePool", id)).toHaveLength(1);
  });
});

describe("container instances", () => {
  it("stops to INACTIVE and starts to ACTIVE; a second stop is unchanged", async () => {
    const [ci] = await world.emu.admin.putContainerInstances([
      { compartmentId: DEV, lifecycleState: "ACTIVE" },
    ]);
    const id = ci?.id ?? "";
    const stopped = await world.call(stop, { target_id: id });
    expect(stopped.body.results?.[0]).toMatchObject({
      kind: "container_instance",
      outcome: "changed",
      state_before: "ACTIVE",
      state_after: "INACTIVE",
    });
    const again = await world.call(stop, { target_id: id });
    expect(again.body.results?.[0]).toMatchObject({ outcome: "unchanged" });
    expect(await calls("StopContainerInstance", id)).toHaveLength(1);
    const started = await world.call(start, { target_id: id });
    expect(started.body.results?.[0]).toMatchObject({ outcome: "changed", state_after: "ACTIVE" });
  });
});

describe("mixed target_ids", () => {
  it("dry run plans every kind without acting; the real run changes each and names its kind", async () => {
    const [instance] = await world.emu.admin.putInstances([
      { compartmentId: DEV, lifecycleState: "STOPPED" },
    ]);
    const [pool] = await world.emu.admin.putInstancePools([
      { compartmentId: DEV, size: 1, lifecycleState: "STOPPED" },
    ]);
    const np = await nodePool({ size: 0, freeformTags: { "power-previous-size": "1" } });
    const [ci] = await world.emu.admin.putContainerInstances([
      { compartmentId: DEV, lifecycleState: "INACTIVE" },
    ]);
    const ids = [instance?.id ?? "", pool?.id ?? "", np, ci?.id ?? ""];
    const before = (await world.emu.admin.calls()).calls.length;
    const plan = await world.call(start, { target_ids: ids, dry_run: true });
    expect(plan.body.results?.map((r) => [r.target_id, r.kind, r.outcome])).toEqual([
      [ids[0], "instance", "planned"],
      [ids[1], "instance_pool", "planned"],
      [ids[2], "node_pool", "planned"],
      [ids[3], "container_instance", "planned"],
    ]);
    const acted = (await world.emu.admin.calls()).calls
      .slice(before)
      .filter((c) => !c.operation.startsWith("Get") && !c.operation.startsWith("List"));
    expect(acted).toEqual([]);

    const run = await world.call(start, { target_ids: ids });
    expect(run.body.summary).toMatchObject({ requested: 4, changed: 4 });
    expect(run.body.results?.[0]).toMatchObject({ instance_id: ids[0], kind: "instance" });
  });
});

describe("compartment selection by kinds", () => {
  it("selects pools and instances by tag; a selected pool's members are left to the pool", async () => {
    const COMP = "ocid1.compartment.oc1..kindsel";
    const tags = { schedule: "night" };
    const [pool] = await world.emu.admin.putInstancePools([
      { compartmentId: COMP, size: 2, freeformTags: tags },
    ]);
    const poolId = pool?.id ?? "";
    const members = (await world.emu.admin.getInstancePool(poolId)).instanceIds;
    // Members carry the pool's tags, as instances launched from a tagged configuration do.
    await world.emu.admin.putInstances(
      members.map((id) => ({ id, compartmentId: COMP, lifecycleState: "RUNNING", freeformTags: tags })),
    );
    const [single] = await world.emu.admin.putInstances([
      { compartmentId: COMP, lifecycleState: "RUNNING", freeformTags: tags },
    ]);
    const res = await world.call(stop, {
      compartment_id: COMP,
      freeform_tags: tags,
      kinds: ["instance", "instance_pool"],
    });
    expect(res.body.summary).toMatchObject({ requested: 2, changed: 2 });
    const byId = new Map(res.body.results?.map((r) => [r.target_id, r]));
    expect(byId.get(poolId)).toMatchObject({ kind: "instance_pool", outcome: "changed" });
    expect([...(byId.get(poolId)?.member_ids ?? [])].sort()).toEqual([...members].sort());
    expect(byId.get(single?.id ?? "")).toMatchObject({ kind: "instance", outcome: "changed" });
    const { calls: all } = await world.emu.admin.calls();
    expect(
      all.filter((c) => c.operation === "InstanceAction" && members.includes(c.instanceId ?? "")),
    ).toEqual([]);
  });
});

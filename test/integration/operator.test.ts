/**
 * Operator controls (issue 12) through the built bundles, the Fn protocol and the emulator: a
 * reason on every result, power-override tags, ignore_overrides, billing-aware stops from the
 * emulator's ListShapes (isBilledForStoppedInstance) with the real SDK and real signing.
 */
import { describe, expect, it } from "vitest";
import { useWorld } from "../helpers/world.js";

const DEV = "ocid1.compartment.oc1..dev";
const OPS = "ocid1.compartment.oc1..ops";

const world = useWorld({ timeScale: 0.01 });

async function put(state: string, extra: Record<string, unknown> = {}, compartmentId = DEV): Promise<string> {
  const [i] = await world.emu.admin.putInstances([{ compartmentId, lifecycleState: state, ...extra }]);
  return i?.id ?? "";
}

async function calls(operation: string, instanceId?: string) {
  const { calls: all } = await world.emu.admin.calls();
  return all.filter((c) => c.operation === operation && (!instanceId || c.instanceId === instanceId));
}

interface Result {
  instance_id: string;
  outcome: string;
  reason: string;
  billed_while_stopped?: boolean | null;
  error?: { code: string; message: string };
}

function byId(body: unknown): Record<string, Result> {
  const results = (body as { results: Result[] }).results;
  return Object.fromEntries(results.map((r) => [r.instance_id, r]));
}

describe("overrides and reasons through the Fn protocol", () => {
  it("stop-compute: skip, keep-running-until, malformed and none, each with its reason; no action on held ones", async () => {
    const skip = await put("RUNNING", { freeformTags: { "power-override": "skip" } });
    const until = "2099-01-01T00:00:00Z";
    const far = await put("RUNNING", { freeformTags: { "power-override": `keep-running-until=${until}` } });
    const soon = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const keep = await put("RUNNING", { freeformTags: { "power-override": `keep-running-until=${soon}` } });
    const bad = await put("RUNNING", { freeformTags: { "power-override": "keep running" } });
    const plain = await put("RUNNING");
    const res = await world.call(world.stop, { instance_ids: [skip, far, keep, bad, plain] });
    const r = byId(res.body);
    expect(r[skip]).toMatchObject({ outcome: "skipped", reason: "skipped: power-override=skip" });
    expect(r[keep]).toMatchObject({ outcome: "skipped", reason: `skipped: keep-running-until ${soon}` });
    expect(r[far]).toMatchObject({ outcome: "failed", error: { code: "InvalidOverride" } });
    expect(r[far]?.error?.message).toMatch(/more than 31 days ahead/);
    expect(r[bad]).toMatchObject({
      outcome: "failed",
      reason: "invalid override; no power action",
      error: { code: "InvalidOverride", message: expect.stringContaining('"keep running"') },
    });
    expect(r[plain]).toMatchObject({ outcome: "changed", reason: "sent SOFTSTOP" });
    expect(res.body).toMatchObject({
      ok: false,
      summary: { requested: 5, skipped: 2, failed: 2, changed: 1 },
    });
    for (const id of [skip, far, keep, bad]) expect(await calls("InstanceAction", id)).toEqual([]);
    const lines = world.logs.filter((l) => l.includes('"instance outcome"') && l.includes(skip));
    expect(lines).toContainEqual(expect.stringContaining('"reason":"skipped: power-override=skip"'));
  });

  it("start-compute: keep-stopped-until holds, an expired one does not, ignore_overrides acts and says so", async () => {
    const soon = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const held = await put("STOPPED", { freeformTags: { "power-override": `keep-stopped-until=${soon}` } });
    const expired = await put("STOPPED", {
      freeformTags: { "power-override": "keep-stopped-until=2020-01-01T00:00:00Z" },
    });
    const res = await world.call(world.start, { instance_ids: [held, expired] });
    const r = byId(res.body);
    expect(r[held]).toMatchObject({ outcome: "skipped", reason: `skipped: keep-stopped-until ${soon}` });
    expect(r[expired]).toMatchObject({
      outcome: "changed",
      reason: "override expired at 2020-01-01T00:00:00Z; sent START",
    });
    expect(res.body).toMatchObject({ ok: true, summary: { skipped: 1, changed: 1 } });

    const forced = await world.call(world.start, { instance_id: held, ignore_overrides: true });
    expect(byId(forced.body)[held]).toMatchObject({
      outcome: "changed",
      reason: `override keep-stopped-until ${soon} ignored (ignore_overrides); sent START`,
    });
  });

  it("a compartment (tag-selected) request applies overrides; a dry run reports would-be skips", async () => {
    const tags = { team: "blue" };
    const held = await put("RUNNING", { freeformTags: { ...tags, "power-override": "SKIP" } }, OPS);
    const free = await put("RUNNING", { freeformTags: tags }, OPS);
    const res = await world.call(world.stop, { compartment_id: OPS, freeform_tags: tags, dry_run: true });
    const r = byId(res.body);
    expect(r[held]).toMatchObject({ outcome: "skipped", reason: "skipped: power-override=skip" });
    expect(r[free]).toMatchObject({
      outcome: "planned",
      reason: expect.stringMatching(/^RUNNING; would send SOFTSTOP/),
    });
    expect(await calls("InstanceAction", free)).toEqual([]);
  });

  it("ignore_overrides must be a boolean; a near miss gets a suggestion", async () => {
    const id = await put("STOPPED");
    const wrong = await world.call(world.start, { instance_id: id, ignore_overrides: "yes" });
    expect(wrong.gatewayStatus).toBe(400);
    expect(wrong.body).toMatchObject({
      error: {
        code: "InvalidParameter",
        message: expect.stringMatching(/ignore_overrides must be true or false/),
      },
    });
    const near = await world.call(world.start, { instance_id: id, ignoreOverride: true });
    expect(near.body).toMatchObject({
      error: { message: expect.stringMatching(/did you mean "ignore_overrides"/) },
    });
  });
});

describe("billing-aware stops through the Fn protocol", () => {
  it("flags shapes billed while stopped, counts and names them; ListShapes once per compartment, cached", async () => {
    const compartment = "ocid1.compartment.oc1..billing";
    const gpu = await put("RUNNING", { shape: "VM.GPU3.1", displayName: "trainer" }, compartment);
    const dense = await put("RUNNING", { shape: "VM.DenseIO2.8", displayName: "warehouse" }, compartment);
    const std = await put("RUNNING", { shape: "VM.Standard.E4.Flex", displayName: "web" }, compartment);
    await world.emu.admin.clearCalls();
    const res = await world.call(world.stop, { instance_ids: [gpu, dense, std] });
    const r = byId(res.body);
    expect(r[gpu]).toMatchObject({
      outcome: "changed",
      billed_while_stopped: true,
      reason: "sent SOFTSTOP; shape VM.GPU3.1 keeps billing while stopped",
    });
    expect(r[dense]).toMatchObject({ outcome: "changed", billed_while_stopped: true });
    expect(r[std]).toMatchObject({
      outcome: "changed",
      billed_while_stopped: false,
      reason: "sent SOFTSTOP",
    });
    expect(res.body).toMatchObject({ ok: true, summary: { changed: 3, billed_while_stopped: 2 } });
    expect((res.body as { message: string }).message).toMatch(
      /2 still billed while stopped \(shape\): trainer, warehouse/,
    );
    expect(await calls("ListShapes")).toHaveLength(1);

    const again = await put("RUNNING", { shape: "VM.GPU3.1" }, compartment);
    const second = await world.call(world.stop, { instance_id: again, dry_run: true });
    expect(byId(second.body)[again]).toMatchObject({ outcome: "planned", billed_while_stopped: true });
    expect(await calls("ListShapes")).toHaveLength(1);
  });

  it("BILLED_WHEN_STOPPED=skip leaves billed shapes running with the reason", async () => {
    const fn = await world.fn("stop", { BILLED_WHEN_STOPPED: "skip" });
    const gpu = await put("RUNNING", { shape: "BM.GPU4.8" });
    const std = await put("RUNNING", { shape: "VM.Standard3.Flex" });
    const res = await world.call(fn, { instance_ids: [gpu, std] });
    const r = byId(res.body);
    expect(r[gpu]).toMatchObject({
      outcome: "skipped",
      billed_while_stopped: true,
      reason: "skipped: shape BM.GPU4.8 keeps billing while stopped (BILLED_WHEN_STOPPED=skip)",
    });
    expect(r[std]).toMatchObject({ outcome: "changed", billed_while_stopped: false });
    expect(res.body).toMatchObject({
      ok: true,
      summary: { skipped: 1, changed: 1, billed_while_stopped: 1 },
    });
    expect(await calls("InstanceAction", gpu)).toEqual([]);
  });

  it("a bad BILLED_WHEN_STOPPED is refused naming the key, before any call", async () => {
    const fn = await world.fn("stop", { BILLED_WHEN_STOPPED: "maybe" });
    const id = await put("RUNNING");
    const res = await world.call(fn, { instance_id: id });
    expect(res.body).toMatchObject({
      ok: false,
      error: {
        code: "InvalidConfiguration",
        message: expect.stringMatching(/BILLED_WHEN_STOPPED must be stop or skip/),
      },
    });
    expect(await calls("InstanceAction", id)).toEqual([]);
  });
});

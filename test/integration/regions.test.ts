/**
 * Regions through the built bundles: the emulator serves us-ashburn-1 (the function's region),
 * us-phoenix-1 and eu-frankfurt-1, each at its own prefix; the functions get OCI_ENDPOINT_TEMPLATE
 * and send each target's calls, signed by the one resource principal, to its own region.
 */
import { describe, expect, it } from "vitest";
import type { EmulatorAdmin } from "../../emulator/src/admin-client.js";
import type { CallRecord } from "../../emulator/src/index.js";
import { useWorld } from "../helpers/world.js";

const IAD = "us-ashburn-1";
const PHX = "us-phoenix-1";
const FRA = "eu-frankfurt-1";
const world = useWorld({ regions: [PHX, FRA] });

let compartmentSeq = 0;
function compartment(): string {
  compartmentSeq++;
  return `ocid1.compartment.oc1..regions${compartmentSeq}`;
}

function admin(region: string): EmulatorAdmin {
  return world.emu.admin.forRegion(region);
}

async function stoppedIn(region: string, compartmentId: string, n = 1): Promise<string[]> {
  const made = await admin(region).putInstances(
    Array.from({ length: n }, () => ({ compartmentId, lifecycleState: "STOPPED" })),
  );
  return made.map((i) => i.id);
}

async function callsIn(region: string, since: number): Promise<CallRecord[]> {
  return (await admin(region).calls(since)).calls;
}

async function marks(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of [IAD, PHX, FRA]) out[r] = (await admin(r).calls()).next;
  return out;
}

describe("targets in their own regions", () => {
  it("ids from three regions: each region's instance is started there, results name the region", async () => {
    const comp = compartment();
    const [iad] = await stoppedIn(IAD, comp);
    const [phx] = await stoppedIn(PHX, comp);
    const [fra] = await stoppedIn(FRA, comp);
    expect(phx).toMatch(/^ocid1\.instance\.oc1\.phx\./);
    const before = await marks();
    const res = await world.call(world.start, { instance_ids: [phx, iad, fra] });
    expect(res.body).toMatchObject({ ok: true, summary: { requested: 3, changed: 3 } });
    expect(res.body.results?.map((r) => [r.target_id, r.region, r.state_after])).toEqual([
      [phx, PHX, "RUNNING"],
      [iad, IAD, "RUNNING"],
      [fra, FRA, "RUNNING"],
    ]);
    for (const [region, id] of [
      [IAD, iad],
      [PHX, phx],
      [FRA, fra],
    ] as const) {
      const actions = (await callsIn(region, before[region] ?? 0)).filter(
        (c) => c.operation === "InstanceAction",
      );
      expect(
        actions.map((c) => [c.instanceId, c.region]),
        region,
      ).toEqual([[id, region]]);
      expect((await admin(region).getInstance(id ?? "")).lifecycleState).toBe("RUNNING");
    }
  });

  it("an unknown region key fails that target with InvalidParameter and no call; the rest run", async () => {
    const comp = compartment();
    const [iad] = await stoppedIn(IAD, comp);
    const bogus = "ocid1.instance.oc1.zzq.aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const before = await marks();
    const res = await world.call(world.start, { instance_ids: [bogus, iad] });
    expect(res.gatewayStatus).toBe(502);
    expect(res.body.results?.[0]).toMatchObject({
      target_id: bogus,
      region: null,
      outcome: "failed",
      error: { code: "InvalidParameter" },
    });
    expect(res.body.results?.[1]).toMatchObject({ target_id: iad, region: IAD, outcome: "changed" });
    for (const region of [IAD, PHX, FRA]) {
      const calls = await callsIn(region, before[region] ?? 0);
      expect(calls.some((c) => c.instanceId === bogus)).toBe(false);
    }
  });

  it("a region that refuses the principal's token: its results say so, naming it; other regions work", async () => {
    const comp = compartment();
    const [iad] = await stoppedIn(IAD, comp);
    const [phx] = await stoppedIn(PHX, comp);
    await admin(PHX).setFaults({ refuseTokens: true });
    try {
      const res = await world.call(world.start, { instance_ids: [iad, phx] });
      expect(res.body.results?.[0]).toMatchObject({ region: IAD, outcome: "changed" });
      expect(res.body.results?.[1]).toMatchObject({
        region: PHX,
        outcome: "failed",
        reason: expect.stringContaining(PHX),
        error: { code: "AuthenticationFailed", message: expect.stringContaining(`region ${PHX}`) },
      });
    } finally {
      await admin(PHX).setFaults({});
    }
  });

  it("a container instance in another region is acted on through that region's Container Instances", async () => {
    const [ci] = await admin(FRA).putContainerInstances([
      { compartmentId: compartment(), lifecycleState: "ACTIVE" },
    ]);
    const id = ci?.id ?? "";
    expect(id).toMatch(/\.fra\./);
    const before = await marks();
    const res = await world.call(world.stop, { target_id: id });
    expect(res.body.results?.[0]).toMatchObject({
      kind: "container_instance",
      region: FRA,
      outcome: "changed",
      state_after: "INACTIVE",
    });
    const stops = (await callsIn(FRA, before[FRA] ?? 0)).filter(
      (c) => c.operation === "StopContainerInstance",
    );
    expect(stops).toHaveLength(1);
  });
});

describe("compartment_id with regions", () => {
  it("without regions: the function's region only", async () => {
    const comp = compartment();
    await stoppedIn(IAD, comp);
    await stoppedIn(PHX, comp);
    const res = await world.call(world.start, { compartment_id: comp, dry_run: true });
    expect(res.body.results?.map((r) => r.region)).toEqual([IAD]);
  });

  it("listed regions: each selected there, with its own pacing; 429s in one region stay there", async () => {
    const comp = compartment();
    await stoppedIn(PHX, comp, 6);
    await stoppedIn(FRA, comp, 6);
    await admin(PHX).setFaults({ rateLimit: { perSecond: 4, burst: 1 } });
    try {
      const before = await marks();
      const res = await world.call(world.start, { compartment_id: comp, regions: [FRA, PHX] });
      expect(res.body).toMatchObject({ ok: true, summary: { requested: 12, changed: 12 } });
      expect(res.body.results?.map((r) => r.region)).toEqual([...Array(6).fill(FRA), ...Array(6).fill(PHX)]);
      const fra = await callsIn(FRA, before[FRA] ?? 0);
      const phx = await callsIn(PHX, before[PHX] ?? 0);
      expect(phx.some((c) => c.status === 429)).toBe(true);
      expect(fra.filter((c) => c.status === 429)).toEqual([]);
      expect((await callsIn(IAD, before[IAD] ?? 0)).filter((c) => c.operation !== "PostMetricData")).toEqual(
        [],
      );
    } finally {
      await admin(PHX).setFaults({});
    }
  });

  it('"all": the subscribed regions, read once with ListRegionSubscriptions', async () => {
    const comp = compartment();
    await stoppedIn(IAD, comp);
    await stoppedIn(PHX, comp);
    await stoppedIn(FRA, comp);
    const before = await marks();
    const res = await world.call(world.start, { compartment_id: comp, regions: "all", dry_run: true });
    expect(res.body).toMatchObject({ ok: true, summary: { requested: 3, planned: 3 } });
    expect(res.body.results?.map((r) => r.region).sort()).toEqual([FRA, IAD, PHX]);
    const subscriptions = (await callsIn(IAD, before[IAD] ?? 0)).filter(
      (c) => c.operation === "ListRegionSubscriptions",
    );
    expect(subscriptions).toHaveLength(1);
  });

  it('"all" when ListRegionSubscriptions fails: the request fails naming it, nothing acted on', async () => {
    const comp = compartment();
    await stoppedIn(IAD, comp);
    await world.emu.admin.setIdentityFault({ status: 500 });
    try {
      const before = await marks();
      const res = await world.call(world.start, { compartment_id: comp, regions: "all" });
      expect(res.body.ok).toBe(false);
      expect(res.body.message).toMatch(/subscribed regions failed/);
      expect(res.body.results).toEqual([]);
      const actions = (await callsIn(IAD, before[IAD] ?? 0)).filter((c) => c.operation === "InstanceAction");
      expect(actions).toEqual([]);
    } finally {
      await world.emu.admin.setIdentityFault({});
    }
  });

  it("a region whose listing is refused is a region error; the other region's results stand", async () => {
    const comp = compartment();
    await stoppedIn(FRA, comp, 2);
    await admin(PHX).setFaults({ refuseTokens: true });
    try {
      const res = await world.call(world.start, { compartment_id: comp, regions: [FRA, PHX] });
      expect(res.gatewayStatus).toBe(502);
      expect(res.body).toMatchObject({
        ok: false,
        summary: { requested: 2, changed: 2 },
        region_errors: [{ region: PHX, error: { code: "AuthenticationFailed" } }],
      });
      expect(res.body.message).toContain(`could not select in 1 region: ${PHX} (AuthenticationFailed)`);
    } finally {
      await admin(PHX).setFaults({});
    }
  });

  it("an unknown region name is InvalidParameter naming regions[i], before any call", async () => {
    const before = await marks();
    const res = await world.call(world.start, {
      compartment_id: compartment(),
      regions: [PHX, "xx-nowhere-9"],
    });
    expect(res.gatewayStatus).toBe(400);
    expect(res.body.error).toMatchObject({
      code: "InvalidParameter",
      message: expect.stringContaining("regions[1]"),
    });
    for (const region of [IAD, PHX, FRA]) expect(await callsIn(region, before[region] ?? 0)).toEqual([]);
  });

  it('"results": "failures" lists only what did not succeed; the summary counts everything', async () => {
    const comp = compartment();
    await stoppedIn(IAD, comp, 3);
    const res = await world.call(world.start, {
      compartment_id: comp,
      regions: [IAD, "ap-tokyo-1"],
      results: "failures",
    });
    expect(res.body).toMatchObject({
      summary: { requested: 3, changed: 3 },
      results: [],
      results_omitted: 3,
      region_errors: [{ region: "ap-tokyo-1", error: { code: "NotAuthorizedOrNotFound" } }],
    });
  });
});

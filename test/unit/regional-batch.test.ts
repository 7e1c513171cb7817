import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ComputePort, InstanceView } from "../../src/compute.js";
import { ComputeError } from "../../src/errors.js";
import { type RegionalDeps, type RegionalOutcome, runRegional } from "../../src/regional-batch.js";
import { type RegionalCompute, regionOfId, singleRegion } from "../../src/regions.js";
import type { PowerRequest, Targets } from "../../src/request.js";
import { resetLearnedDurations } from "../../src/watch.js";
import {
  COMP_A,
  config,
  FAST,
  instanceId,
  onFakeTime,
  powerRequest,
  quietLogger,
} from "../helpers/batch-fixtures.js";
import { FakeCompute } from "../helpers/fake-compute.js";

const KEYS: Record<string, string> = { iad: "us-ashburn-1", phx: "us-phoenix-1", fra: "eu-frankfurt-1" };

/** An in-memory RegionalCompute: one FakeCompute per region, the oc1 keys above, call counts. */
class FakeRegions implements RegionalCompute {
  readonly homeRegion = "us-ashburn-1";
  readonly ports = new Map<string, ComputePort>();
  subscriptionCalls = 0;
  subscriptions: () => Promise<string[]> = async () => Object.values(KEYS);

  constructor(ports: Record<string, ComputePort>) {
    for (const [name, port] of Object.entries(ports)) this.ports.set(name, port);
  }
  regionOf(realm: string, segment: string): string | undefined {
    if (realm !== "oc1") return undefined;
    return KEYS[segment] ?? Object.values(KEYS).find((name) => name === segment);
  }
  isRegion(name: string): boolean {
    return Object.values(KEYS).includes(name);
  }
  forRegion(region: string): ComputePort {
    const port = this.ports.get(region);
    if (!port) throw new Error(`test: no port for ${region}`);
    return port;
  }
  async subscribedRegions(): Promise<string[]> {
    this.subscriptionCalls++;
    return await this.subscriptions();
  }
}

/** A port that never answers until its call is aborted (a region that hangs). */
const hanging: ComputePort = {
  getInstance: (_id, signal) => never(signal),
  listInstances: (_c, signal) => never(signal),
  instanceAction: (_id, _a, _t, signal) => never(signal),
};
function never(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    signal?.addEventListener("abort", () =>
      reject(new ComputeError("NetworkError", "aborted", { transient: true, outcomeUnknown: true })),
    );
  });
}

function compartment(regions?: string[] | "all"): Targets {
  return {
    kind: "compartment",
    compartmentId: COMP_A,
    freeformTags: {},
    definedTags: {},
    kinds: ["instance"],
    ...(regions ? { regions } : {}),
  };
}

function deps(regional: RegionalCompute, budgetMs = 5000): RegionalDeps {
  const now = Date.now();
  return {
    regional,
    config: config(),
    logger: quietLogger,
    deadlineAt: now + budgetMs,
    startedAt: now,
    tuning: FAST,
  };
}

function stopped(ids: string[]): FakeCompute {
  return new FakeCompute(ids.map((id) => ({ id, compartmentId: COMP_A, lifecycleState: "STOPPED" })));
}

beforeEach(() => {
  vi.useFakeTimers();
  resetLearnedDurations();
});
afterEach(() => {
  vi.useRealTimers();
});

function run(req: PowerRequest, d: RegionalDeps): Promise<RegionalOutcome> {
  return onFakeTime(runRegional(req, d));
}

describe("regionOfId", () => {
  const regions = new FakeRegions({});
  it.each([
    ["ocid1.instance.oc1.phx.abc", { ok: true, region: "us-phoenix-1" }],
    ["ocid1.instance.oc1.eu-frankfurt-1.abc", { ok: true, region: "eu-frankfurt-1" }],
    ["ocid1.instance.oc1..abc", { ok: true, region: "us-ashburn-1" }],
    ["ocid1.instance.oc1.xyz.abc", { ok: false, segment: "xyz" }],
    ["ocid1.instance.oc2.phx.abc", { ok: false, segment: "phx" }],
  ])("%s", (id, expected) => {
    expect(regionOfId(id, regions)).toEqual(expected);
  });

  it("a single injected port maps every segment to its one region", () => {
    const single = singleRegion(new FakeCompute(), "local");
    expect(regionOfId("ocid1.instance.oc1.zzz.abc", single)).toEqual({ ok: true, region: "local" });
  });
});

describe("runRegional: ids", () => {
  it("sends each id to its own region and answers in request order, naming every region", async () => {
    const ids = [instanceId(1, "phx"), instanceId(2, "iad"), instanceId(3, "fra"), instanceId(4, "phx")];
    const iad = stopped([ids[1] as string]);
    const phx = stopped([ids[0] as string, ids[3] as string]);
    const fra = stopped([ids[2] as string]);
    const regions = new FakeRegions({ "us-ashburn-1": iad, "us-phoenix-1": phx, "eu-frankfurt-1": fra });
    const out = await run(powerRequest(ids), deps(regions));
    expect(out.results.map((r) => [r.target_id, r.region, r.outcome])).toEqual([
      [ids[0], "us-phoenix-1", "changed"],
      [ids[1], "us-ashburn-1", "changed"],
      [ids[2], "eu-frankfurt-1", "changed"],
      [ids[3], "us-phoenix-1", "changed"],
    ]);
    // Nothing crossed regions: each port saw only its own ids.
    expect(iad.calls.every((c) => c.instanceId === undefined || c.instanceId === ids[1])).toBe(true);
    expect(fra.calls.every((c) => c.instanceId === undefined || c.instanceId === ids[2])).toBe(true);
    expect(out.apiCalls).toBe(iad.calls.length + phx.calls.length + fra.calls.length);
  });

  it("an unknown region key fails that target with InvalidParameter and sends nothing for it", async () => {
    const good = instanceId(1, "iad");
    const bad = "ocid1.instance.oc1.xyz.fake0002";
    const iad = stopped([good]);
    const out = await run(powerRequest([bad, good]), deps(new FakeRegions({ "us-ashburn-1": iad })));
    expect(out.results[0]).toMatchObject({
      target_id: bad,
      outcome: "failed",
      region: null,
      error: { code: "InvalidParameter", message: expect.stringContaining('"xyz"') },
    });
    expect(out.results[1]).toMatchObject({ target_id: good, outcome: "changed", region: "us-ashburn-1" });
    expect(iad.calls.some((c) => c.instanceId === bad)).toBe(false);
  });

  it("a region that never answers is written off at the deadline; the others finish", async () => {
    const fast = instanceId(1, "iad");
    const slow = instanceId(2, "phx");
    const regions = new FakeRegions({ "us-ashburn-1": stopped([fast]), "us-phoenix-1": hanging });
    const out = await run(powerRequest([fast, slow]), deps(regions, 3000));
    expect(out.results).toHaveLength(2);
    expect(out.results[0]).toMatchObject({ target_id: fast, outcome: "changed", region: "us-ashburn-1" });
    expect(out.results[1]).toMatchObject({ target_id: slow, outcome: "failed", region: "us-phoenix-1" });
    expect(out.results[1]?.error?.code).toMatch(/DeadlineExceeded|NetworkError/);
  });

  it("ids of a region whose batch cannot run fail with that error, each one reported", async () => {
    const ids = [instanceId(1, "iad"), instanceId(2, "phx"), instanceId(3, "phx")];
    const regions = new FakeRegions({ "us-ashburn-1": stopped([ids[0] as string]) });
    const out = await run(powerRequest(ids), deps(regions));
    expect(out.results.map((r) => [r.target_id, r.region, r.outcome])).toEqual([
      [ids[0], "us-ashburn-1", "changed"],
      [ids[1], "us-phoenix-1", "failed"],
      [ids[2], "us-phoenix-1", "failed"],
    ]);
    expect(out.results[1]?.error?.message).toContain("us-phoenix-1");
  });

  it("a region that refuses the credentials says so, naming the region", async () => {
    const id = instanceId(1, "phx");
    const phx = stopped([id]);
    phx.getInstance = async () => {
      throw new ComputeError("AuthenticationFailed", "OCI did not accept the function's credentials (401)", {
        transient: false,
        status: 401,
      });
    };
    const out = await run(powerRequest([id]), deps(new FakeRegions({ "us-phoenix-1": phx })));
    expect(out.results[0]).toMatchObject({
      outcome: "failed",
      region: "us-phoenix-1",
      reason: expect.stringContaining("us-phoenix-1"),
      error: { code: "AuthenticationFailed", message: expect.stringContaining("region us-phoenix-1") },
    });
  });
});

describe("runRegional: compartment", () => {
  it("without regions selects in the function's region only", async () => {
    const iad = stopped([instanceId(1, "iad")]);
    const phx = stopped([instanceId(2, "phx")]);
    const regions = new FakeRegions({ "us-ashburn-1": iad, "us-phoenix-1": phx });
    const out = await run(powerRequest(compartment()), deps(regions));
    expect(out.results.map((r) => r.region)).toEqual(["us-ashburn-1"]);
    expect(phx.calls).toHaveLength(0);
  });

  it("selects in each listed region; a region whose listing fails is a region error, the rest still run", async () => {
    const iad = stopped([instanceId(1, "iad")]);
    const fra = stopped([instanceId(3, "fra")]);
    const phx = stopped([instanceId(2, "phx")]);
    phx.listInstances = async () => {
      throw new ComputeError("NotAuthorizedOrNotFound", "404: no such compartment here", {
        transient: false,
        status: 404,
      });
    };
    const regions = new FakeRegions({ "us-ashburn-1": iad, "us-phoenix-1": phx, "eu-frankfurt-1": fra });
    const out = await run(
      powerRequest(compartment(["eu-frankfurt-1", "us-phoenix-1", "us-ashburn-1"])),
      deps(regions),
    );
    expect(out.fatal).toBeUndefined();
    expect(out.results.map((r) => [r.region, r.outcome])).toEqual([
      ["eu-frankfurt-1", "changed"],
      ["us-ashburn-1", "changed"],
    ]);
    expect(out.regionErrors).toEqual([
      { region: "us-phoenix-1", error: expect.objectContaining({ code: "NotAuthorizedOrNotFound" }) },
    ]);
  });

  it('"all" reads the subscribed regions once and selects in each', async () => {
    const ports = {
      "us-ashburn-1": stopped([instanceId(1, "iad")]),
      "us-phoenix-1": stopped([instanceId(2, "phx")]),
      "eu-frankfurt-1": stopped([instanceId(3, "fra")]),
    };
    const regions = new FakeRegions(ports);
    const out = await run(powerRequest(compartment("all")), deps(regions));
    expect(regions.subscriptionCalls).toBe(1);
    expect(out.results.map((r) => r.region).sort()).toEqual([
      "eu-frankfurt-1",
      "us-ashburn-1",
      "us-phoenix-1",
    ]);
  });

  it('"all" whose listing fails fails the request, naming what failed, with no power action', async () => {
    const iad = stopped([instanceId(1, "iad")]);
    const regions = new FakeRegions({ "us-ashburn-1": iad });
    regions.subscriptions = async () => {
      throw new ComputeError("ServiceError", "500 InternalServerError", { transient: true, status: 500 });
    };
    const out = await run(powerRequest(compartment("all")), deps(regions));
    expect(out.fatal?.message).toMatch(/subscribed regions failed/);
    expect(out.results).toEqual([]);
    expect(iad.calls).toHaveLength(0);
  });

  it("a subscribed region whose batch cannot run is a region error; the others still run", async () => {
    const iad = stopped([instanceId(1, "iad")]);
    const regions = new FakeRegions({ "us-ashburn-1": iad });
    regions.subscriptions = async () => ["us-ashburn-1", "ap-tokyo-1"];
    const out = await run(powerRequest(compartment("all")), deps(regions));
    expect(out.fatal).toBeUndefined();
    expect(out.results.map((r) => [r.region, r.outcome])).toEqual([["us-ashburn-1", "changed"]]);
    expect(out.regionErrors).toEqual([
      {
        region: "ap-tokyo-1",
        error: expect.objectContaining({ message: expect.stringContaining("ap-tokyo-1") }),
      },
    ]);
  });

  it("an unknown region name is InvalidParameter naming regions[i], before any call", async () => {
    const iad = stopped([instanceId(1, "iad")]);
    const regions = new FakeRegions({ "us-ashburn-1": iad });
    const out = await run(powerRequest(compartment(["us-ashburn-1", "mars-olympus-1"])), deps(regions));
    expect(out.fatal).toMatchObject({
      code: "InvalidParameter",
      message: expect.stringContaining("regions[1]"),
    });
    expect(iad.calls).toHaveLength(0);
  });

  it("every region's listing failing fails the request with the first region's error", async () => {
    const failing = (): FakeCompute => {
      const f = stopped([]);
      f.listInstances = async (): Promise<InstanceView[]> => {
        throw new ComputeError("NotAuthorizedOrNotFound", "404", { transient: false, status: 404 });
      };
      return f;
    };
    const regions = new FakeRegions({ "us-ashburn-1": failing(), "us-phoenix-1": failing() });
    const out = await run(powerRequest(compartment(["us-ashburn-1", "us-phoenix-1"])), deps(regions));
    expect(out.fatal?.code).toBe("NotAuthorizedOrNotFound");
    expect(out.regionErrors.map((e) => e.region)).toEqual(["us-ashburn-1", "us-phoenix-1"]);
  });
});

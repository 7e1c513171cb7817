/**
 * Several regions in one emulator (issue 14), through the real SDK clients with their endpoint set to
 * `${url}/<region>` and real request signing: isolation, the signature over the prefixed path, OCIDs
 * carrying the region key, per-region rate limits and token refusal, ListRegionSubscriptions, the
 * other services under a prefix, the region admin API, the call log and the snapshot.
 */
import * as common from "oci-common";
import * as ci from "oci-containerinstances";
import * as core from "oci-core";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { EmulatorAdminError, type GeneratedApiKey } from "../src/admin-client.js";
import { type RunningEmulator, startEmulator } from "../src/index.js";
import { action, apiKeyProvider, COMPARTMENT_A, NO_RETRY, ociError, signedFetch, until } from "./helpers.js";

const IAD = "us-ashburn-1";
const PHX = "us-phoenix-1";
const FRA = "eu-frankfurt-1";
const IAD_INSTANCE = "ocid1.instance.oc1.iad.aaaaregionsiad";
const PHX_INSTANCE = "ocid1.instance.oc1.phx.aaaaregionsphx";

let emu: RunningEmulator;
let key: GeneratedApiKey;

beforeAll(async () => {
  // 30 s of OCI time per START/STOP become 30 ms.
  emu = await startEmulator({
    timeScale: 0.001,
    regions: [FRA],
    state: {
      instances: [{ id: IAD_INSTANCE, compartmentId: COMPARTMENT_A, lifecycleState: "RUNNING" }],
      regions: {
        [PHX]: { instances: [{ id: PHX_INSTANCE, compartmentId: COMPARTMENT_A, lifecycleState: "STOPPED" }] },
      },
    },
  });
  key = await emu.admin.generateApiKey();
});
afterAll(async () => await emu.close());
afterEach(() => vi.unstubAllEnvs());

function computeIn(region: string | undefined, provider = apiKeyProvider(key)): core.ComputeClient {
  const client = new core.ComputeClient({ authenticationDetailsProvider: provider });
  client.endpoint = region === undefined ? emu.url : emu.regionUrl(region);
  return client;
}

function resourcePrincipalProvider(env: Record<string, string>): common.AuthenticationDetailsProvider {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  return common.ResourcePrincipalAuthenticationDetailsProvider.builder();
}

const listIds = async (client: core.ComputeClient) =>
  (await client.listInstances({ compartmentId: COMPARTMENT_A })).items.map((i) => i.id);

describe("routing", () => {
  it("serves the default region unprefixed and under its own prefix, and lists the served regions", async () => {
    expect(emu.regions).toEqual([IAD, PHX, FRA]);
    expect(await emu.admin.regions()).toEqual({
      default: IAD,
      regions: [
        { name: IAD, key: "iad" },
        { name: PHX, key: "phx" },
        { name: FRA, key: "fra" },
      ],
    });
    const plain = await computeIn(undefined).getInstance({ instanceId: IAD_INSTANCE });
    const prefixed = await computeIn(IAD).getInstance({ instanceId: IAD_INSTANCE });
    expect(prefixed.instance).toEqual(plain.instance);
    expect(plain.instance.region).toBe(IAD);
  });

  it("keeps each region's instances to itself: 404 elsewhere, lists per region", async () => {
    const phx = computeIn(PHX);
    expect((await phx.getInstance({ instanceId: PHX_INSTANCE })).instance.region).toBe(PHX);
    const inIad = await ociError(() => computeIn(IAD).getInstance({ instanceId: PHX_INSTANCE }));
    expect([inIad.statusCode, inIad.serviceCode]).toEqual([404, "NotAuthorizedOrNotFound"]);
    const inPhx = await ociError(() => phx.getInstance({ instanceId: IAD_INSTANCE }));
    expect([inPhx.statusCode, inPhx.serviceCode]).toEqual([404, "NotAuthorizedOrNotFound"]);
    expect(await listIds(phx)).toEqual([PHX_INSTANCE]);
    expect(await listIds(computeIn(undefined))).toEqual([IAD_INSTANCE]);
    expect(await listIds(computeIn(FRA))).toEqual([]);
  });

  it("a power action in one region moves only that region's instance", async () => {
    const phx = computeIn(PHX);
    const res = await phx.instanceAction({ instanceId: PHX_INSTANCE, action: action("START") });
    expect(res.instance.lifecycleState).toBe("STARTING");
    const phxAdmin = emu.admin.forRegion(PHX);
    await until("phx instance RUNNING", async () => {
      const inst = await phxAdmin.getInstance(PHX_INSTANCE);
      return { done: inst.lifecycleState === "RUNNING" ? true : undefined, seen: inst.lifecycleState };
    });
    await expect(emu.admin.getInstance(PHX_INSTANCE)).rejects.toMatchObject({ status: 404 });
  });

  it("answers 404 NotAuthorizedOrNotFound for a region it does not serve", async () => {
    const err = await ociError(() =>
      computeIn("ap-tokyo-1").getInstance({ instanceId: IAD_INSTANCE, retryConfiguration: NO_RETRY }),
    );
    expect([err.statusCode, err.serviceCode]).toEqual([404, "NotAuthorizedOrNotFound"]);
    expect(err.message).toContain("ap-tokyo-1");
  });

  it("serves Functions and the metadata service only without a region prefix", async () => {
    const res = await signedFetch(emu, key, "GET", `/${PHX}/20181201/functions/ocid1.fnfunc.oc1.phx.x`);
    expect(res.status).toBe(404);
    expect(JSON.stringify(res.json)).toContain("without a region prefix");
  });
});

describe("signing", () => {
  it("verifies the signature over the full path, region prefix included", async () => {
    const path = `/${PHX}/20160918/instances/${PHX_INSTANCE}`;
    expect((await signedFetch(emu, key, "GET", path)).status).toBe(200);
    const unprefixed = await signedFetch(emu, key, "GET", path, {
      signedPath: `/20160918/instances/${PHX_INSTANCE}`,
    });
    expect([unprefixed.status, (unprefixed.json as { code: string }).code]).toEqual([
      401,
      "NotAuthenticated",
    ]);
    const otherRegion = await signedFetch(emu, key, "GET", path, {
      signedPath: `/${FRA}/20160918/instances/${PHX_INSTANCE}`,
    });
    expect(otherRegion.status).toBe(401);
  });
});

describe("OCIDs", () => {
  it("new resources carry their region's key", async () => {
    const [made] = await emu.admin.forRegion(FRA).putInstances([{ compartmentId: COMPARTMENT_A }]);
    expect(made?.id).toMatch(/^ocid1\.instance\.oc1\.fra\./);
    expect(made?.region).toBe(FRA);
    const [pool] = await emu.admin
      .forRegion(PHX)
      .putInstancePools([{ compartmentId: COMPARTMENT_A, size: 2 }]);
    expect(pool?.id).toMatch(/^ocid1\.instancepool\.oc1\.phx\./);
    expect(pool?.instanceIds.every((id) => id.startsWith("ocid1.instance.oc1.phx."))).toBe(true);
    const [iad] = await emu.admin.putInstances([{ compartmentId: COMPARTMENT_A }]);
    expect(iad?.id).toMatch(/^ocid1\.instance\.oc1\.iad\./);
  });
});

describe("faults per region", () => {
  it("rate-limits per principal per region: 429 in one region, the other unaffected", async () => {
    const phxAdmin = emu.admin.forRegion(PHX);
    await phxAdmin.setFaults({ rateLimit: { perSecond: 0.01, burst: 1 } });
    try {
      const phx = computeIn(PHX);
      await phx.getInstance({ instanceId: PHX_INSTANCE });
      const limited = await ociError(() =>
        phx.getInstance({ instanceId: PHX_INSTANCE, retryConfiguration: NO_RETRY }),
      );
      expect([limited.statusCode, limited.serviceCode]).toEqual([429, "TooManyRequests"]);
      const iad = computeIn(IAD);
      for (let i = 0; i < 3; i++) await iad.getInstance({ instanceId: IAD_INSTANCE });
      expect(await emu.admin.getFaults()).toEqual({});
    } finally {
      await phxAdmin.setFaults({});
    }
  });

  it("refuseTokens: the region answers 401 to a resource principal's token, API keys still work", async () => {
    const fraAdmin = emu.admin.forRegion(FRA);
    await fraAdmin.setFaults({ refuseTokens: true });
    try {
      const [inFra] = await fraAdmin.putInstances([{ compartmentId: COMPARTMENT_A }]);
      const id = inFra?.id ?? "";
      const rp = await fraAdmin.mintResourcePrincipal({ compartmentId: COMPARTMENT_A });
      expect(rp.env.OCI_RESOURCE_PRINCIPAL_REGION).toBe(FRA);
      const viaToken = computeIn(FRA, resourcePrincipalProvider(rp.env));
      const refused = await ociError(() =>
        viaToken.getInstance({ instanceId: id, retryConfiguration: NO_RETRY }),
      );
      expect([refused.statusCode, refused.serviceCode]).toEqual([401, "NotAuthenticated"]);
      expect(refused.message).toContain(FRA);
      expect((await computeIn(FRA).getInstance({ instanceId: id })).instance.id).toBe(id);
      const elsewhere = computeIn(IAD, resourcePrincipalProvider(rp.env));
      expect((await elsewhere.getInstance({ instanceId: IAD_INSTANCE })).instance.id).toBe(IAD_INSTANCE);
      const { calls } = await fraAdmin.calls();
      expect(calls.find((c) => c.status === 401)).toMatchObject({
        fault: "refuseTokens",
        principal: rp.principalId,
      });
    } finally {
      await fraAdmin.setFaults({});
    }
  });
});

describe("ListRegionSubscriptions", () => {
  const path = () => `/20160918/tenancies/${emu.tenancyId}/regionSubscriptions`;

  it("lists every served region, the default one as home, unprefixed and under a prefix", async () => {
    const expected = [
      { regionKey: "IAD", regionName: IAD, status: "READY", isHomeRegion: true },
      { regionKey: "PHX", regionName: PHX, status: "READY", isHomeRegion: false },
      { regionKey: "FRA", regionName: FRA, status: "READY", isHomeRegion: false },
    ];
    expect((await signedFetch(emu, key, "GET", path())).json).toEqual(expected);
    const prefixed = await signedFetch(emu, key, "GET", `/${PHX}${path()}`);
    expect([prefixed.status, prefixed.json]).toEqual([200, expected]);
    const { calls } = await emu.admin.forRegion(PHX).calls();
    expect(calls.at(-1)).toMatchObject({ operation: "ListRegionSubscriptions", region: PHX, status: 200 });
  });

  it("answers 404 for another tenancy, and fails on demand", async () => {
    const other = await signedFetch(
      emu,
      key,
      "GET",
      "/20160918/tenancies/ocid1.tenancy.oc1..other/regionSubscriptions",
    );
    expect([other.status, (other.json as { code: string }).code]).toEqual([404, "NotAuthorizedOrNotFound"]);
    await emu.admin.setIdentityFault({ status: 500, count: 1 });
    expect((await signedFetch(emu, key, "GET", path())).status).toBe(500);
    expect((await signedFetch(emu, key, "GET", path())).status).toBe(200);
    const unsigned = await fetch(`${emu.url}${path()}`);
    expect(unsigned.status).toBe(401);
  });
});

describe("other services under a region prefix", () => {
  it("instance pools through ComputeManagementClient at <url>/us-phoenix-1", async () => {
    const [pool] = await emu.admin
      .forRegion(PHX)
      .putInstancePools([{ compartmentId: COMPARTMENT_A, lifecycleState: "STOPPED", size: 1 }]);
    const id = pool?.id ?? "";
    const client = new core.ComputeManagementClient({ authenticationDetailsProvider: apiKeyProvider(key) });
    client.endpoint = emu.regionUrl(PHX);
    const started = await client.startInstancePool({ instancePoolId: id });
    expect(started.instancePool.lifecycleState).toBe("STARTING");
    client.endpoint = emu.url;
    const err = await ociError(() => client.getInstancePool({ instancePoolId: id }));
    expect(err.statusCode).toBe(404);
  });

  it("container instances through ContainerInstanceClient at <url>/eu-frankfurt-1, work requests keyed fra", async () => {
    const fraAdmin = emu.admin.forRegion(FRA);
    const [one] = await fraAdmin.putContainerInstances([
      { compartmentId: COMPARTMENT_A, lifecycleState: "INACTIVE" },
    ]);
    const id = one?.id ?? "";
    expect(id).toMatch(/^ocid1\.computecontainerinstance\.oc1\.fra\./);
    const client = new ci.ContainerInstanceClient({ authenticationDetailsProvider: apiKeyProvider(key) });
    client.endpoint = emu.regionUrl(FRA);
    const res = await client.startContainerInstance({ containerInstanceId: id });
    expect(res.opcWorkRequestId).toMatch(/^ocid1\.computecontainerinstanceworkrequest\.oc1\.fra\./);
    expect((await fraAdmin.listWorkRequests()).map((w) => w.id)).toContain(res.opcWorkRequestId);
    expect(await emu.admin.listContainerInstances()).toEqual([]);
  });
});

describe("Monitoring under a region prefix", () => {
  it("PostMetricData at /us-phoenix-1/20180401/metrics, with that region's faults", async () => {
    const body = JSON.stringify({
      metricData: [
        {
          namespace: "regions_test",
          compartmentId: COMPARTMENT_A,
          name: "started",
          dimensions: { region: PHX },
          datapoints: [{ timestamp: new Date().toISOString(), value: 1 }],
        },
      ],
    });
    const ok = await signedFetch(emu, key, "POST", `/${PHX}/20180401/metrics`, { body });
    expect([ok.status, ok.json]).toMatchObject([200, { failedMetricsCount: 0 }]);
    const phxAdmin = emu.admin.forRegion(PHX);
    await phxAdmin.setFaults({ errorRate: { fraction: 1, statuses: [503] } });
    try {
      expect((await signedFetch(emu, key, "POST", `/${PHX}/20180401/metrics`, { body })).status).toBe(503);
      expect((await signedFetch(emu, key, "POST", "/20180401/metrics", { body })).status).toBe(200);
    } finally {
      await phxAdmin.setFaults({});
    }
  });
});

describe("Functions with several regions", () => {
  it("a function the emulator runs gets OCI_ENDPOINT_TEMPLATE = <url>/{region}", async () => {
    const id = "ocid1.fnfunc.oc1.iad.aaaaregionsecho";
    await emu.admin.registerFunctions([
      { id, displayName: "echo", bundle: "emulator/test/fixtures/echo-fn/func.js" },
    ]);
    const res = await signedFetch(emu, key, "POST", `/20181201/functions/${id}/actions/invoke`, {
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ endpointTemplate: `${emu.url}/{region}`, computeEndpoint: emu.url });
  });
});

describe("admin API per region", () => {
  it("addRegion serves a new region at runtime, reseeds one, and refuses an unknown name", async () => {
    const added = await emu.admin.addRegion("ap-tokyo-1", {
      instances: [{ id: "ocid1.instance.oc1.nrt.aaaatokyo", compartmentId: COMPARTMENT_A }],
    });
    expect(added).toEqual({ name: "ap-tokyo-1", key: "nrt" });
    expect(await listIds(computeIn("ap-tokyo-1"))).toEqual(["ocid1.instance.oc1.nrt.aaaatokyo"]);
    await emu.admin.addRegion("ap-tokyo-1", {});
    expect(await listIds(computeIn("ap-tokyo-1"))).toEqual([]);
    const bad = await emu.admin.addRegion("xx-nowhere-1").catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(EmulatorAdminError);
    expect((bad as EmulatorAdminError).status).toBe(400);
    expect((bad as EmulatorAdminError).message).toContain("xx-nowhere-1");
    const res = await fetch(`${emu.url}/_emulator/regions`, { method: "POST", body: "{}" });
    expect([res.status, ((await res.json()) as { message: string }).message]).toEqual([
      400,
      "region is required: a region name such as us-phoenix-1.",
    ]);
  });

  it("an unknown region in the state file is refused naming it", async () => {
    await expect(startEmulator({ state: { regions: { "mars-olympus-1": {} } } })).rejects.toThrow(
      /mars-olympus-1/,
    );
    await expect(startEmulator({ state: { region: "nowhere" } })).rejects.toThrow(/nowhere/);
  });

  it("every call record names its region; a region's view shows only its calls and stats", async () => {
    await emu.admin.forRegion(PHX).clearCalls();
    await computeIn(PHX).getInstance({ instanceId: PHX_INSTANCE });
    await computeIn(undefined).getInstance({ instanceId: IAD_INSTANCE });
    const phxCalls = (await emu.admin.forRegion(PHX).calls()).calls;
    expect(phxCalls.map((c) => [c.region, c.path])).toEqual([[PHX, `/20160918/instances/${PHX_INSTANCE}`]]);
    const all = (await emu.admin.calls()).calls;
    expect(all.at(-1)).toMatchObject({ region: IAD, instanceId: IAD_INSTANCE });
    expect(all.some((c) => c.region === PHX)).toBe(true);
    expect((await emu.admin.forRegion(PHX).stats()).total).toBe(1);
    expect((await emu.admin.stats()).total).toBeGreaterThan(1);
  });

  it("the snapshot round-trips every region", async () => {
    const snapshot = await emu.admin.state();
    expect(Object.keys(snapshot.regions)).toEqual([PHX, FRA, "ap-tokyo-1"]);
    const copy = await startEmulator({ state: snapshot });
    try {
      expect(copy.regions).toEqual(emu.regions);
      const phx = await copy.admin.forRegion(PHX).listInstances();
      expect(phx.map((i) => i.id)).toEqual((await emu.admin.forRegion(PHX).listInstances()).map((i) => i.id));
      expect((await copy.admin.listInstances()).map((i) => i.id)).toEqual(
        (await emu.admin.listInstances()).map((i) => i.id),
      );
    } finally {
      await copy.close();
    }
  });
});

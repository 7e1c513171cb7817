/**
 * Instance pools through the real oci-core ComputeManagementClient (real signing): get, list, the
 * power actions and their lifecycles, members moving with the pool, retry tokens, 409/412, faults
 * and compartment authorization.
 */
import * as core from "oci-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedApiKey } from "../src/admin-client.js";
import type { RunningEmulator } from "../src/index.js";
import {
  apiKeyProvider,
  COMPARTMENT_A,
  COMPARTMENT_B,
  compute,
  emulator,
  NO_RETRY,
  ociError,
  signedFetch,
  until,
} from "./helpers.js";

let emu: RunningEmulator;
let key: GeneratedApiKey;
let pools: core.ComputeManagementClient;
let instances: core.ComputeClient;

function managementClient(k: GeneratedApiKey): core.ComputeManagementClient {
  const client = new core.ComputeManagementClient({ authenticationDetailsProvider: apiKeyProvider(k) });
  client.endpoint = emu.url;
  return client;
}

beforeAll(async () => {
  // 30 s of OCI time per START/STOP become 30 ms.
  emu = await emulator({}, 0.001);
  key = await emu.admin.generateApiKey();
  pools = managementClient(key);
  instances = compute(emu, apiKeyProvider(key));
});
afterAll(async () => await emu.close());

async function seed(fields: Record<string, unknown>) {
  const [pool] = await emu.admin.putInstancePools([{ compartmentId: COMPARTMENT_A, ...fields }]);
  if (!pool) throw new Error("seed failed");
  return pool;
}

async function poolState(id: string, state: string) {
  return await until(`instance pool ${id} ${state}`, async () => {
    const pool = await emu.admin.getInstancePool(id);
    return { done: pool.lifecycleState === state ? pool : undefined, seen: pool.lifecycleState };
  });
}

const memberStates = async (poolId: string) =>
  (await pools.listInstancePoolInstances({ instancePoolId: poolId, compartmentId: COMPARTMENT_A })).items.map(
    (m) => m.state,
  );

describe("get and list", () => {
  it("GetInstancePool answers the SDK model with an etag; members exist as instances", async () => {
    const seeded = await seed({ displayName: "web", size: 3, lifecycleState: "STOPPED" });
    expect(seeded.instanceIds).toHaveLength(3);
    const got = await pools.getInstancePool({ instancePoolId: seeded.id });
    expect(got.instancePool).toMatchObject({
      id: seeded.id,
      compartmentId: COMPARTMENT_A,
      displayName: "web",
      lifecycleState: "STOPPED",
      size: 3,
    });
    expect(got.etag).toBeTruthy();
    const member = await instances.getInstance({ instanceId: seeded.instanceIds[0] ?? "" });
    expect(member.instance.lifecycleState).toBe("STOPPED");
    expect(await memberStates(seeded.id)).toEqual(["STOPPED", "STOPPED", "STOPPED"]);
  });

  it("ListInstancePools pages with opc-next-page and filters by lifecycleState and displayName", async () => {
    const compartmentId = "ocid1.compartment.oc1..aaaaaaaapoolpages";
    await emu.admin.putInstancePools(
      Array.from({ length: 5 }, (_, i) => ({
        compartmentId,
        displayName: `p${i}`,
        size: 1,
        lifecycleState: i % 2 ? "RUNNING" : "STOPPED",
      })),
    );
    const first = await pools.listInstancePools({ compartmentId, limit: 3 });
    expect(first.items.map((p) => p.displayName)).toEqual(["p0", "p1", "p2"]);
    expect(first.opcNextPage).toBeTruthy();
    const second = await pools.listInstancePools({ compartmentId, limit: 3, page: first.opcNextPage ?? "" });
    expect(second.items.map((p) => p.displayName)).toEqual(["p3", "p4"]);
    expect(second.opcNextPage).toBeUndefined();
    const running = await pools.listInstancePools({
      compartmentId,
      lifecycleState: core.models.InstancePoolSummary.LifecycleState.Running,
    });
    expect(running.items.map((p) => p.displayName)).toEqual(["p1", "p3"]);
    const named = await pools.listInstancePools({ compartmentId, displayName: "p4" });
    expect(named.items).toHaveLength(1);
  });

  it("bad input is a 400 naming the parameter", async () => {
    const noCompartment = await signedFetch(emu, key, "GET", "/20160918/instancePools");
    expect(noCompartment).toMatchObject({ status: 400, json: { code: "MissingParameter" } });
    const badState = await signedFetch(
      emu,
      key,
      "GET",
      `/20160918/instancePools?compartmentId=${COMPARTMENT_A}&lifecycleState=ASLEEP`,
    );
    expect(badState).toMatchObject({ status: 400, json: { code: "InvalidParameter" } });
    expect(JSON.stringify(badState.json)).toMatch(/lifecycleState/);
    const badId = await ociError(() => pools.getInstancePool({ instancePoolId: "ocid1.instance.oc1.iad.x" }));
    expect(badId).toMatchObject({ statusCode: 400, serviceCode: "InvalidParameter" });
    const unknown = await ociError(() =>
      pools.getInstancePool({ instancePoolId: "ocid1.instancepool.oc1.iad.nope" }),
    );
    expect(unknown).toMatchObject({ statusCode: 404, serviceCode: "NotAuthorizedOrNotFound" });
  });
});

describe("power actions move the pool and its members", () => {
  it("start: STOPPED → STARTING → RUNNING, every member with it", async () => {
    const pool = await seed({ size: 2, lifecycleState: "STOPPED" });
    const res = await pools.startInstancePool({ instancePoolId: pool.id });
    expect(res.instancePool.lifecycleState).toBe("STARTING");
    expect(res.etag).toBeTruthy();
    const done = await poolState(pool.id, "RUNNING");
    expect(done.stateHistory.map((h) => h.state)).toEqual(["STOPPED", "STARTING", "RUNNING"]);
    expect(await memberStates(pool.id)).toEqual(["RUNNING", "RUNNING"]);
    for (const member of pool.instanceIds) {
      // The members went through the same states at the same moments.
      const { stateHistory } = await emu.admin.getInstance(member);
      expect(stateHistory).toEqual(done.stateHistory);
    }
  });

  it.each([
    ["stopInstancePool", "STOP", 30],
    ["softstopInstancePool", "SOFTSTOP", 60],
  ] as const)("%s: RUNNING → STOPPING → STOPPED after the %s duration", async (op, action, ms) => {
    const pool = await seed({ size: 2, lifecycleState: "RUNNING" });
    const res = await pools[op]({ instancePoolId: pool.id });
    expect(res.instancePool.lifecycleState).toBe("STOPPING");
    const done = await poolState(pool.id, "STOPPED");
    const [, stopping, stopped] = done.stateHistory;
    expect((stopped?.at ?? 0) - (stopping?.at ?? 0)).toBe(ms);
    expect(await memberStates(pool.id)).toEqual(["STOPPED", "STOPPED"]);
    const { calls } = await emu.admin.calls();
    const call = calls.find((c) => c.targetId === pool.id && c.action === action);
    expect(call).toMatchObject({
      operation: `${op.charAt(0).toUpperCase()}${op.slice(1)}`,
      transition: true,
    });
  });

  it("reset and softreset go through STOPPING and STARTING back to RUNNING", async () => {
    for (const op of ["resetInstancePool", "softresetInstancePool"] as const) {
      const pool = await seed({ size: 1, lifecycleState: "RUNNING" });
      await pools[op]({ instancePoolId: pool.id });
      const done = await until(`${op} done`, async () => {
        const p = await emu.admin.getInstancePool(pool.id);
        return { done: p.stateHistory.length === 4 ? p : undefined, seen: p.stateHistory };
      });
      expect(done.stateHistory.map((h) => h.state)).toEqual(["RUNNING", "STOPPING", "STARTING", "RUNNING"]);
    }
  });
});

describe("decisions: no-op, 409, 412, retry token", () => {
  it("start on RUNNING (or STARTING) is a 200 no-op; stop while STARTING is 409 IncorrectState", async () => {
    const running = await seed({ size: 1, lifecycleState: "RUNNING" });
    await emu.admin.clearCalls();
    const again = await pools.startInstancePool({ instancePoolId: running.id });
    expect(again.instancePool.lifecycleState).toBe("RUNNING");
    const { calls } = await emu.admin.calls();
    expect(calls.find((c) => c.targetId === running.id)).toMatchObject({ status: 200, transition: false });

    await emu.admin.setTimings({ timeScale: 1 });
    try {
      const stopped = await seed({ size: 1, lifecycleState: "STOPPED" });
      await pools.startInstancePool({ instancePoolId: stopped.id });
      const twice = await pools.startInstancePool({ instancePoolId: stopped.id });
      expect(twice.instancePool.lifecycleState).toBe("STARTING");
      const conflict = await ociError(() => pools.stopInstancePool({ instancePoolId: stopped.id }));
      expect(conflict).toMatchObject({ statusCode: 409, serviceCode: "IncorrectState" });
      expect(conflict.message).toMatch(/STARTING \(moving to RUNNING\)/);
    } finally {
      await emu.admin.setTimings({ timeScale: 0.001 });
    }
  });

  it("SCALING and PROVISIONING pools refuse power actions (409), then settle RUNNING", async () => {
    await emu.admin.setTimings({ timeScale: 1 });
    try {
      for (const state of ["SCALING", "PROVISIONING"]) {
        const busy = await seed({ size: 1, lifecycleState: state });
        const err = await ociError(() => pools.stopInstancePool({ instancePoolId: busy.id }));
        expect(err).toMatchObject({ statusCode: 409, serviceCode: "IncorrectState" });
        expect(err.message).toContain(`is in state ${state}`);
      }
    } finally {
      await emu.admin.setTimings({ timeScale: 0.001 });
    }
    const scaling = await seed({ size: 1, lifecycleState: "SCALING" });
    const settled = await poolState(scaling.id, "RUNNING");
    expect(settled.stateHistory.map((h) => h.state)).toEqual(["SCALING", "RUNNING"]);
  });

  it("if-match must match the pool's etag (412 NoEtagMatch)", async () => {
    const pool = await seed({ size: 1, lifecycleState: "STOPPED" });
    const err = await ociError(() => pools.startInstancePool({ instancePoolId: pool.id, ifMatch: "nope" }));
    expect(err).toMatchObject({ statusCode: 412, serviceCode: "NoEtagMatch" });
    const { etag } = await pools.getInstancePool({ instancePoolId: pool.id });
    const ok = await pools.startInstancePool({ instancePoolId: pool.id, ifMatch: etag ?? "" });
    expect(ok.instancePool.lifecycleState).toBe("STARTING");
  });

  it("opc-retry-token: a repeat is replayed from the first answer, with one transition", async () => {
    const pool = await seed({ size: 1, lifecycleState: "STOPPED" });
    await emu.admin.clearCalls();
    const first = await pools.startInstancePool({ instancePoolId: pool.id, opcRetryToken: "pool-token-1" });
    await poolState(pool.id, "RUNNING");
    const second = await pools.startInstancePool({ instancePoolId: pool.id, opcRetryToken: "pool-token-1" });
    expect(second.instancePool.lifecycleState).toBe("STARTING");
    expect(second.etag).toBe(first.etag);
    const { calls } = await emu.admin.calls();
    const starts = calls.filter((c) => c.operation === "StartInstancePool" && c.targetId === pool.id);
    expect(starts.map((c) => [c.replayed, c.transition, c.retryToken])).toEqual([
      [false, true, "pool-token-1"],
      [true, false, "pool-token-1"],
    ]);
  });
});

describe("faults and authorization apply as for instances", () => {
  it("out of capacity on the pool or a member: 500, nothing moves", async () => {
    const pool = await seed({ size: 2, lifecycleState: "STOPPED" });
    for (const target of [pool.id, pool.instanceIds[1] ?? ""]) {
      await emu.admin.setFaults({ outOfCapacity: { instanceIds: [target] } });
      const err = await ociError(() => pools.startInstancePool({ instancePoolId: pool.id }));
      expect(err).toMatchObject({
        statusCode: 500,
        serviceCode: "InternalError",
        message: "Out of host capacity.",
      });
    }
    await emu.admin.setFaults({});
    expect((await emu.admin.getInstancePool(pool.id)).lifecycleState).toBe("STOPPED");
    expect(await memberStates(pool.id)).toEqual(["STOPPED", "STOPPED"]);
  });

  it("rate limit (429 with retry-after) and injected 503s reach pool calls", async () => {
    const pool = await seed({ size: 1 });
    const noRetry = { retryConfiguration: NO_RETRY };
    try {
      await emu.admin.setFaults({ rateLimit: { perSecond: 0.01, burst: 1 } });
      await pools.getInstancePool({ instancePoolId: pool.id, ...noRetry }).catch(() => undefined);
      const throttled = await ociError(() => pools.getInstancePool({ instancePoolId: pool.id, ...noRetry }));
      expect(throttled).toMatchObject({ statusCode: 429, serviceCode: "TooManyRequests" });
      await emu.admin.setFaults({ errorRate: { fraction: 1, statuses: [503] } });
      const unavailable = await ociError(() =>
        pools.getInstancePool({ instancePoolId: pool.id, ...noRetry }),
      );
      expect(unavailable.statusCode).toBe(503);
      const { calls } = await emu.admin.calls();
      expect(calls.filter((c) => c.targetId === pool.id).map((c) => c.fault)).toEqual(
        expect.arrayContaining(["rateLimit", "errorRate"]),
      );
    } finally {
      await emu.admin.setFaults({});
    }
  });

  it("a key limited to another compartment gets 404 for the pool, its members and the list", async () => {
    const pool = await seed({ size: 1 });
    const other = managementClient(await emu.admin.generateApiKey({ compartments: [COMPARTMENT_B] }));
    for (const call of [
      () => other.getInstancePool({ instancePoolId: pool.id }),
      () => other.startInstancePool({ instancePoolId: pool.id }),
      () => other.listInstancePoolInstances({ instancePoolId: pool.id, compartmentId: COMPARTMENT_A }),
      () => other.listInstancePools({ compartmentId: COMPARTMENT_A }),
    ]) {
      expect(await ociError(call)).toMatchObject({ statusCode: 404, serviceCode: "NotAuthorizedOrNotFound" });
    }
  });

  it("unsigned requests are 401 and are logged with their operation and target", async () => {
    const pool = await seed({ size: 1 });
    const res = await fetch(`${emu.url}/20160918/instancePools/${pool.id}/actions/start`, { method: "POST" });
    expect(res.status).toBe(401);
    const { calls } = await emu.admin.calls();
    expect(calls.at(-1)).toMatchObject({ operation: "StartInstancePool", targetId: pool.id, status: 401 });
  });
});

/**
 * OKE node pools through the real oci-containerengine ContainerEngineClient (real signing): get, list,
 * UpdateNodePool with its work request, the size round trip through a freeform tag, nodes appearing
 * and draining over time (with an injected clock), failures, 409/412 and authorization.
 */
import * as ce from "oci-containerengine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedApiKey } from "../src/admin-client.js";
import type { Principal } from "../src/auth.js";
import { FaultInjector } from "../src/faults.js";
import type { RunningEmulator } from "../src/index.js";
import { InstanceStore } from "../src/instances.js";
import { DEFAULT_DURATIONS_MS } from "../src/model.js";
import { NodePools } from "../src/node-pools.js";
import type { ServiceCall } from "../src/service.js";
import {
  apiKeyProvider,
  COMPARTMENT_A,
  COMPARTMENT_B,
  emulator,
  ociError,
  signedFetch,
  until,
} from "./helpers.js";

let emu: RunningEmulator;
let key: GeneratedApiKey;
let client: ce.ContainerEngineClient;

function engine(k: GeneratedApiKey): ce.ContainerEngineClient {
  const c = new ce.ContainerEngineClient({ authenticationDetailsProvider: apiKeyProvider(k) });
  c.endpoint = emu.url;
  return c;
}

beforeAll(async () => {
  emu = await emulator({}, 0.001);
  key = await emu.admin.generateApiKey();
  client = engine(key);
});
afterAll(async () => await emu.close());

async function seed(fields: Record<string, unknown>) {
  const [pool] = await emu.admin.putNodePools([{ compartmentId: COMPARTMENT_A, ...fields }]);
  if (!pool) throw new Error("seed failed");
  return pool;
}

async function finished(workRequestId: string) {
  return await until(`work request ${workRequestId} finished`, async () => {
    const { workRequest } = await client.getWorkRequest({ workRequestId });
    const done = workRequest.status === "SUCCEEDED" || workRequest.status === "FAILED";
    return { done: done ? workRequest : undefined, seen: workRequest.status };
  });
}

describe("get and list", () => {
  it("GetNodePool answers the SDK model: size, ACTIVE nodes, tags, etag", async () => {
    const pool = await seed({ name: "workers", size: 3, freeformTags: { team: "k8s" } });
    const got = await client.getNodePool({ nodePoolId: pool.id });
    expect(got.nodePool).toMatchObject({
      id: pool.id,
      name: "workers",
      compartmentId: COMPARTMENT_A,
      lifecycleState: "ACTIVE",
      nodeConfigDetails: { size: 3 },
      freeformTags: { team: "k8s" },
    });
    expect(got.nodePool.nodes?.map((n) => n.lifecycleState)).toEqual(["ACTIVE", "ACTIVE", "ACTIVE"]);
    expect(got.etag).toBeTruthy();
  });

  it("ListNodePools by compartment (summaries, no nodes), filtered by cluster and name, paged", async () => {
    const compartmentId = "ocid1.compartment.oc1..aaaaaaaanodepools";
    const clusterId = "ocid1.cluster.oc1.iad.aaaaaaaaone";
    await emu.admin.putNodePools([
      { compartmentId, clusterId, name: "a", size: 1 },
      { compartmentId, clusterId, name: "b", size: 2 },
      { compartmentId, name: "c", size: 0 },
    ]);
    const all = await client.listNodePools({ compartmentId, limit: 2 });
    expect(all.items.map((p) => p.name)).toEqual(["a", "b"]);
    expect(all.items[0]).not.toHaveProperty("nodes");
    const rest = await client.listNodePools({ compartmentId, limit: 2, page: all.opcNextPage ?? "" });
    expect(rest.items.map((p) => p.name)).toEqual(["c"]);
    expect((await client.listNodePools({ compartmentId, clusterId })).items).toHaveLength(2);
    expect((await client.listNodePools({ compartmentId, name: "b" })).items[0]?.nodeConfigDetails?.size).toBe(
      2,
    );
  });
});

describe("UpdateNodePool: to zero and back, the size kept in a freeform tag", () => {
  it("stop records the size in power-previous-size; start reads it back; nodes drain and appear", async () => {
    const pool = await seed({ size: 3, freeformTags: { team: "k8s" } });
    // Stop: one UpdateNodePool sets size 0 and records the size it had.
    const before = await client.getNodePool({ nodePoolId: pool.id });
    const size = before.nodePool.nodeConfigDetails?.size ?? -1;
    const down = await client.updateNodePool({
      nodePoolId: pool.id,
      updateNodePoolDetails: {
        nodeConfigDetails: { size: 0 },
        freeformTags: { ...before.nodePool.freeformTags, "power-previous-size": String(size) },
      },
    });
    expect(down.opcWorkRequestId).toMatch(/^ocid1\.clustersworkrequest\./);
    const wrDown = await finished(down.opcWorkRequestId);
    expect(wrDown).toMatchObject({
      status: "SUCCEEDED",
      operationType: "NODEPOOL_UPDATE",
      compartmentId: COMPARTMENT_A,
      resources: [{ entityType: "nodepool", identifier: pool.id, actionType: "UPDATED" }],
    });
    const stopped = await client.getNodePool({ nodePoolId: pool.id });
    expect(stopped.nodePool).toMatchObject({
      lifecycleState: "ACTIVE",
      nodeConfigDetails: { size: 0 },
      nodes: [],
      freeformTags: { team: "k8s", "power-previous-size": "3" },
    });

    // Start: the size comes back from the tag.
    const recorded = Number(stopped.nodePool.freeformTags?.["power-previous-size"]);
    const up = await client.updateNodePool({
      nodePoolId: pool.id,
      updateNodePoolDetails: { nodeConfigDetails: { size: recorded } },
    });
    expect((await finished(up.opcWorkRequestId)).status).toBe("SUCCEEDED");
    const started = await client.getNodePool({ nodePoolId: pool.id });
    expect(started.nodePool.nodeConfigDetails?.size).toBe(3);
    expect(started.nodePool.nodes?.map((n) => n.lifecycleState)).toEqual(["ACTIVE", "ACTIVE", "ACTIVE"]);
    const history = (await emu.admin.getNodePool(pool.id)).stateHistory.map((h) => h.state);
    expect(history).toEqual(["ACTIVE", "UPDATING", "ACTIVE", "UPDATING", "ACTIVE"]);
    const { calls } = await emu.admin.calls();
    const updates = calls.filter((c) => c.operation === "UpdateNodePool" && c.targetId === pool.id);
    expect(updates.map((c) => [c.status, c.transition])).toEqual([
      [202, true],
      [202, true],
    ]);
  });

  it("a tags-only update (or the same size) succeeds at once without touching nodes", async () => {
    const pool = await seed({ size: 2 });
    const res = await client.updateNodePool({
      nodePoolId: pool.id,
      updateNodePoolDetails: { freeformTags: { note: "x" } },
    });
    const { workRequest } = await client.getWorkRequest({ workRequestId: res.opcWorkRequestId });
    expect(workRequest.status).toBe("SUCCEEDED");
    const got = await client.getNodePool({ nodePoolId: pool.id });
    expect(got.nodePool.freeformTags).toEqual({ note: "x" });
    expect(got.nodePool.nodes).toHaveLength(2);
  });

  it("out of capacity on scale-up: the work request FAILS with an error, no node stays, NEEDS_ATTENTION", async () => {
    const pool = await seed({ size: 0 });
    await emu.admin.setFaults({ outOfCapacity: { instanceIds: [pool.id] } });
    try {
      const res = await client.updateNodePool({
        nodePoolId: pool.id,
        updateNodePoolDetails: { nodeConfigDetails: { size: 2 } },
      });
      const wr = await finished(res.opcWorkRequestId);
      expect(wr.status).toBe("FAILED");
      const errors = await client.listWorkRequestErrors({
        workRequestId: res.opcWorkRequestId,
        compartmentId: COMPARTMENT_A,
      });
      expect(errors.items).toEqual([expect.objectContaining({ message: "Out of host capacity." })]);
      const got = await client.getNodePool({ nodePoolId: pool.id });
      expect(got.nodePool).toMatchObject({ lifecycleState: "NEEDS_ATTENTION", nodes: [] });
    } finally {
      await emu.admin.setFaults({});
    }
    // A pool that needs attention can be updated again.
    const retry = await client.updateNodePool({
      nodePoolId: pool.id,
      updateNodePoolDetails: { nodeConfigDetails: { size: 1 } },
    });
    expect((await finished(retry.opcWorkRequestId)).status).toBe("SUCCEEDED");
  });
});

describe("nodes appear and drain one after another (injected clock)", () => {
  const D = DEFAULT_DURATIONS_MS.START; // time scale 1 below: 30 s for 3 nodes, one every 10 s
  function harness() {
    const faults = new FaultInjector();
    const env = {
      region: "us-ashburn-1",
      tenancyId: "ocid1.tenancy.oc1..t",
      timings: { timeScale: 1, durationsMs: { ...DEFAULT_DURATIONS_MS } },
      faults,
      instances: new InstanceStore("us-ashburn-1", "ocid1.tenancy.oc1..t"),
    };
    const pools = new NodePools(env);
    const principal: Principal = { id: "p", kind: "apiKey", tenancyId: "t", compartments: undefined };
    const call = (method: string, parts: string[], now: number, body = "") => {
      const routed = pools.route(method, parts);
      if (!routed) throw new Error(`no route ${method} ${parts.join("/")}`);
      return routed.run({
        req: { headers: {} } as ServiceCall["req"],
        query: new URLSearchParams(),
        body: Buffer.from(body),
        principal,
        call: { operation: routed.operation, replayed: false, transition: false },
        now,
      });
    };
    return { pools, call };
  }
  const states = (pools: NodePools, id: string, now: number) =>
    pools.store.get(id, now)?.json.nodes.map((n) => n.lifecycleState);

  it("scale 0 → 3: CREATING nodes turn ACTIVE at D/3, 2D/3, D; the work request follows", () => {
    const { pools, call } = harness();
    const [pool] = pools.upsert([{ size: 0 }], 0);
    const id = pool?.id ?? "";
    const answer = call("PUT", ["nodePools", id], 1000, JSON.stringify({ nodeConfigDetails: { size: 3 } }));
    expect(answer.status).toBe(202);
    const wrId = answer.headers?.["opc-work-request-id"] ?? "";
    const wr = (now: number) => pools.workRequests.all(now).find((w) => w.id === wrId)?.status;
    expect(states(pools, id, 1000)).toEqual(["CREATING", "CREATING", "CREATING"]);
    expect(wr(1000)).toBe("ACCEPTED");
    expect(wr(1000 + D / 10)).toBe("IN_PROGRESS");
    expect(states(pools, id, 1000 + D / 3)).toEqual(["ACTIVE", "CREATING", "CREATING"]);
    expect(states(pools, id, 1000 + (2 * D) / 3)).toEqual(["ACTIVE", "ACTIVE", "CREATING"]);
    expect(wr(1000 + D - 1)).toBe("IN_PROGRESS");
    expect(pools.store.get(id, 1000 + D - 1)?.json.lifecycleState).toBe("UPDATING");
    expect(states(pools, id, 1000 + D)).toEqual(["ACTIVE", "ACTIVE", "ACTIVE"]);
    expect(wr(1000 + D)).toBe("SUCCEEDED");
    expect(pools.store.get(id, 1000 + D)?.json.lifecycleState).toBe("ACTIVE");
  });

  it("scale 3 → 1: two nodes DELETING, then gone one by one; a second update meanwhile is 409", () => {
    const { pools, call } = harness();
    const S = DEFAULT_DURATIONS_MS.STOP;
    const [pool] = pools.upsert([{ size: 3 }], 0);
    const id = pool?.id ?? "";
    call("PUT", ["nodePools", id], 0, JSON.stringify({ nodeConfigDetails: { size: 1 } }));
    expect(states(pools, id, 0)).toEqual(["ACTIVE", "DELETING", "DELETING"]);
    expect(() =>
      call("PUT", ["nodePools", id], 1, JSON.stringify({ nodeConfigDetails: { size: 0 } })),
    ).toThrow(/update in progress/);
    expect(states(pools, id, S / 2)).toEqual(["ACTIVE", "DELETING"]);
    expect(states(pools, id, S)).toEqual(["ACTIVE"]);
  });
});

describe("bad input, 412 and authorization", () => {
  it.each([
    [{ nodeConfigDetails: { size: -1 } }, /nodeConfigDetails\.size must be an integer from 0 to 1000/],
    [{ nodeConfigDetails: { size: 1.5 } }, /nodeConfigDetails\.size/],
    [{ nodeConfigDetails: { size: "3" } }, /nodeConfigDetails\.size/],
    [{ nodeConfigDetails: "big" }, /nodeConfigDetails must be an object/],
    [{ freeformTags: { n: 3 } }, /freeformTags must be an object of string values/],
  ])("%j → 400 naming the field", async (details, message) => {
    const pool = await seed({ size: 1 });
    const res = await signedFetch(emu, key, "PUT", `/20180222/nodePools/${pool.id}`, {
      body: JSON.stringify(details),
    });
    expect(res).toMatchObject({ status: 400, json: { code: "InvalidParameter" } });
    expect((res.json as { message: string }).message).toMatch(message);
  });

  it("if-match must match (412); a foreign key sees 404 for pool, list and work request", async () => {
    const pool = await seed({ size: 1 });
    const stale = await ociError(() =>
      client.updateNodePool({ nodePoolId: pool.id, ifMatch: "stale", updateNodePoolDetails: {} }),
    );
    expect(stale).toMatchObject({ statusCode: 412, serviceCode: "NoEtagMatch" });
    const res = await client.updateNodePool({
      nodePoolId: pool.id,
      updateNodePoolDetails: { freeformTags: {} },
    });
    const other = engine(await emu.admin.generateApiKey({ compartments: [COMPARTMENT_B] }));
    for (const call of [
      () => other.getNodePool({ nodePoolId: pool.id }),
      () => other.updateNodePool({ nodePoolId: pool.id, updateNodePoolDetails: {} }),
      () => other.listNodePools({ compartmentId: COMPARTMENT_A }),
      () => other.getWorkRequest({ workRequestId: res.opcWorkRequestId }),
    ]) {
      expect(await ociError(call)).toMatchObject({ statusCode: 404, serviceCode: "NotAuthorizedOrNotFound" });
    }
  });
});

/**
 * The other kinds, without OCI: the pure state and node-pool rules (kinds.ts), the request's new
 * fields, the KindRouter's lazy clients, and whole batches over the in-memory FakeCompute and
 * FakeKind ports (mixed ids, dry run, idempotency, NoRecordedSize, pool members in a selection).
 */
import { describe, expect, it } from "vitest";
import { runBatch } from "../../src/batch.js";
import type { KindPort } from "../../src/compute.js";
import { ComputeError, InvalidParameterError } from "../../src/errors.js";
import { KindRouter } from "../../src/kind-router.js";
import {
  containerInstanceState,
  instancePoolState,
  kindOfId,
  nodePoolState,
  nodePoolUpdate,
  type OtherKind,
} from "../../src/kinds.js";
import { type PowerRequest, parseRequest, type Targets } from "../../src/request.js";
import { COMP_A, config, FAST, instanceId, powerRequest, quietLogger } from "../helpers/batch-fixtures.js";
import { FakeCompute } from "../helpers/fake-compute.js";
import { FakeKind } from "../helpers/fake-kinds.js";

const POOL = "ocid1.instancepool.oc1.iad.pool0001";
const NODES = "ocid1.nodepool.oc1.iad.nodes0001";
const CI = "ocid1.computecontainerinstance.oc1.iad.ci0001";
const VOLUME = "ocid1.volume.oc1.iad.vol0001";

describe("kinds: state rules", () => {
  it.each([
    [instanceId(1), "instance"],
    [POOL, "instance_pool"],
    [NODES, "node_pool"],
    [CI, "container_instance"],
  ])("%s is a(n) %s", (id, kind) => {
    expect(kindOfId(id)).toBe(kind);
  });

  it.each([
    ["RUNNING", "RUNNING"],
    ["STOPPED", "STOPPED"],
    ["SCALING", "MOVING"],
    ["STARTING", "STARTING"],
  ])("instance pool %s decides as %s", (native, state) => {
    expect(instancePoolState(native)).toBe(state);
  });

  it.each([
    ["ACTIVE", "RUNNING"],
    ["INACTIVE", "STOPPED"],
    ["UPDATING", "MOVING"],
    ["CREATING", "PROVISIONING"],
    ["DELETED", "TERMINATED"],
    ["FAILED", "FAILED"],
  ])("container instance %s decides as %s", (native, state) => {
    expect(containerInstanceState(native)).toBe(state);
  });

  it.each([
    [{ lifecycleState: "ACTIVE", size: 0, nodes: 0, activeNodes: 0 }, "STOPPED"],
    [{ lifecycleState: "ACTIVE", size: 0, nodes: 2, activeNodes: 0 }, "STOPPING"],
    [{ lifecycleState: "ACTIVE", size: 0, nodes: 0, activeNodes: 0, workRequest: "IN_PROGRESS" }, "STOPPING"],
    [{ lifecycleState: "ACTIVE", size: 3, nodes: 3, activeNodes: 3 }, "RUNNING"],
    [{ lifecycleState: "ACTIVE", size: 3, nodes: 3, activeNodes: 1 }, "STARTING"],
    [{ lifecycleState: "UPDATING", size: 3, nodes: 3, activeNodes: 3 }, "STARTING"],
    [{ lifecycleState: "ACTIVE", size: 3, nodes: 3, activeNodes: 3, workRequest: "SUCCEEDED" }, "RUNNING"],
    [{ lifecycleState: "NEEDS_ATTENTION", size: 2, nodes: 0, activeNodes: 0 }, "NEEDS_ATTENTION"],
    [{ lifecycleState: "DELETED", size: 2, nodes: 0, activeNodes: 0 }, "TERMINATED"],
  ])("node pool %j is %s", (facts, state) => {
    expect(nodePoolState(facts)).toBe(state);
  });
});

describe("kinds: the node-pool update", () => {
  const pool = { id: NODES, size: 3, freeformTags: { team: "k8s" } };

  it("stop records the size in the tag, keeps every other tag and sets size 0", () => {
    expect(nodePoolUpdate("SOFTSTOP", pool, "power-previous-size", undefined)).toEqual({
      size: 0,
      freeformTags: { team: "k8s", "power-previous-size": "3" },
    });
  });

  it("start sets the recorded size back; a request size wins", () => {
    const stopped = { id: NODES, size: 0, freeformTags: { team: "k8s", keep: "4" } };
    expect(nodePoolUpdate("START", stopped, "keep", undefined)).toEqual({
      size: 4,
      freeformTags: stopped.freeformTags,
    });
    expect(nodePoolUpdate("START", stopped, "keep", 7).size).toBe(7);
  });

  it.each([
    [{}, /no recorded size .*"power-previous-size" is absent.*"size"/],
    [{ "power-previous-size": "0" }, /not a positive whole number/],
    [{ "power-previous-size": "two" }, /not a positive whole number/],
  ])("start with tags %j fails NoRecordedSize", (tags, message) => {
    const run = () =>
      nodePoolUpdate("START", { id: NODES, size: 0, freeformTags: tags }, "power-previous-size", undefined);
    expect(run).toThrow(ComputeError);
    expect(run).toThrow(message);
    try {
      run();
    } catch (error) {
      expect(error).toMatchObject({ code: "NoRecordedSize", transient: false });
    }
  });
});

function problem(body: unknown, fn: "START" | "STOP" = "START"): string {
  try {
    parseRequest(JSON.stringify(body), fn);
  } catch (error) {
    if (error instanceof InvalidParameterError) return `${error.field}: ${error.message}`;
    throw error;
  }
  throw new Error("accepted");
}

describe("kinds: request fields", () => {
  it("target_ids takes any supported kind, mixed; target_id one", () => {
    const r = parseRequest(
      JSON.stringify({ target_ids: [instanceId(1), POOL, NODES, CI], size: 3 }),
      "START",
    );
    expect(r.targets).toEqual({ kind: "ids", ids: [instanceId(1), POOL, NODES, CI] });
    expect(r.size).toBe(3);
    expect(parseRequest(JSON.stringify({ target_id: NODES }), "STOP").targets).toEqual({
      kind: "ids",
      ids: [NODES],
    });
  });

  it("kinds selects kinds in a compartment (default instance only)", () => {
    const body = { compartment_id: COMP_A, kinds: ["node_pool", "instance"] };
    expect(parseRequest(JSON.stringify(body), "STOP").targets).toMatchObject({
      kinds: ["node_pool", "instance"],
    });
    expect(parseRequest(JSON.stringify({ compartment_id: COMP_A }), "STOP").targets).toMatchObject({
      kinds: ["instance"],
    });
  });

  it.each([
    [
      { target_ids: [instanceId(1), VOLUME] },
      "START",
      /^target_ids\[1\]: .*OCID of a volume, which these functions do not power; expected ocid1\.instance/,
    ],
    [
      { instance_ids: [instanceId(1), NODES] },
      "START",
      /^instance_ids\[1\]: .*OCID of a nodepool, not of an instance/,
    ],
    [{ target_ids: [] }, "START", /^target_ids: target_ids is empty/],
    [{ target_id: [NODES] }, "START", /use "target_ids" for a list/],
    [{ target_ids: [NODES, NODES] }, "STOP", /^target_ids\[1\]: .*repeats target_ids\[0\]/],
    [{ target_id: NODES, instance_id: instanceId(1) }, "START", /were all given; use exactly one of/],
    [{ compartment_id: COMP_A, kinds: ["node_pools"] }, "STOP", /^kinds\[0\]: .*did you mean "node_pool"\?/],
    [{ compartment_id: COMP_A, kinds: [] }, "STOP", /^kinds: kinds must be a list of 1 to 4 of "instance"/],
    [{ compartment_id: COMP_A, kinds: ["instance", "instance"] }, "STOP", /repeats "instance"/],
    [{ target_id: NODES, kinds: ["node_pool"] }, "STOP", /^kinds: kinds only applies with compartment_id/],
    [{ target_id: NODES, size: 0 }, "START", /^size: size must be a whole number of nodes from 1 to 1000/],
    [{ target_id: NODES, size: 2.5 }, "START", /^size: /],
    [{ target_id: NODES, size: 2 }, "STOP", /^size: "size" is only accepted by start-compute/],
    [{ target_id: NODES, kind: ["node_pool"] }, "STOP", /did you mean "kinds"\?/],
    [{ targetIds: [NODES] }, "START", /did you mean "target_ids"\?/],
  ])("%j to %s is refused naming the field", (body, fn, message) => {
    expect(problem(body, fn as "START" | "STOP")).toMatch(message);
  });
});

describe("kinds: the router", () => {
  it("creates a kind's port only when a target of that kind comes up, and routes by OCID", async () => {
    const compute = new FakeCompute([
      { id: instanceId(1), compartmentId: COMP_A, lifecycleState: "RUNNING" },
    ]);
    const created: OtherKind[] = [];
    const nodes = new FakeKind("node_pool");
    nodes.put({ id: NODES, compartmentId: COMP_A, lifecycleState: "RUNNING", size: 2 });
    const factory = (kind: OtherKind, port: KindPort) => async () => {
      created.push(kind);
      return port;
    };
    const router = new KindRouter(compute, {
      instance_pool: factory("instance_pool", new FakeKind("instance_pool")),
      node_pool: factory("node_pool", nodes),
      container_instance: factory("container_instance", new FakeKind("container_instance")),
    });
    await router.getInstance(instanceId(1));
    expect(created).toEqual([]);
    expect(await router.getInstance(NODES)).toMatchObject({ kind: "node_pool", size: 2 });
    await router.getInstance(NODES);
    expect(created).toEqual(["node_pool"]);
  });

  it("a failed creation is not kept: the next use tries again", async () => {
    let attempts = 0;
    const failing = async (): Promise<KindPort> => {
      attempts++;
      throw new ComputeError("InvalidConfiguration", "bad NODE_POOL_SIZE_TAG_KEY", { transient: false });
    };
    const router = new KindRouter(new FakeCompute([]), {
      instance_pool: failing,
      node_pool: failing,
      container_instance: failing,
    });
    await expect(router.getInstance(NODES)).rejects.toThrow(/NODE_POOL_SIZE_TAG_KEY/);
    await expect(router.getInstance(NODES)).rejects.toThrow(/NODE_POOL_SIZE_TAG_KEY/);
    expect(attempts).toBe(2);
  });
});

interface Fleet {
  compute: FakeCompute;
  pools: FakeKind;
  nodes: FakeKind;
  containers: FakeKind;
  router: KindRouter;
}

function fleet(): Fleet {
  const compute = new FakeCompute([
    { id: instanceId(1), compartmentId: COMP_A, lifecycleState: "STOPPED", freeformTags: { night: "off" } },
    { id: instanceId(2), compartmentId: COMP_A, lifecycleState: "RUNNING", freeformTags: { night: "off" } },
    { id: instanceId(3), compartmentId: COMP_A, lifecycleState: "RUNNING", freeformTags: { night: "off" } },
  ]);
  const pools = new FakeKind("instance_pool");
  pools.put({ id: POOL, compartmentId: COMP_A, lifecycleState: "RUNNING", freeformTags: { night: "off" } }, [
    instanceId(2),
    instanceId(3),
  ]);
  const nodes = new FakeKind("node_pool");
  nodes.put({ id: NODES, compartmentId: COMP_A, lifecycleState: "STOPPED", size: 0 });
  const containers = new FakeKind("container_instance");
  containers.put({ id: CI, compartmentId: COMP_A, lifecycleState: "STOPPED", nativeState: "INACTIVE" });
  const router = new KindRouter(compute, {
    instance_pool: async () => pools,
    node_pool: async () => nodes,
    container_instance: async () => containers,
  });
  return { compute, pools, nodes, containers, router };
}

async function run(f: Fleet, req: PowerRequest) {
  const now = Date.now();
  return await runBatch(req, {
    compute: f.router,
    config: config(),
    logger: quietLogger,
    deadlineAt: now + 5000,
    startedAt: now,
    tuning: FAST,
  });
}

describe("kinds: batches over the fakes", () => {
  it("mixed ids: every target gets one result with its kind; a node pool starts to the request size", async () => {
    const f = fleet();
    const ids = [instanceId(1), POOL, NODES, CI];
    const out = await run(f, powerRequest({ kind: "ids", ids }, { size: 2 }));
    expect(out.results.map((r) => [r.target_id, r.kind, r.outcome])).toEqual([
      [instanceId(1), "instance", "changed"],
      [POOL, "instance_pool", "unchanged"],
      [NODES, "node_pool", "changed"],
      [CI, "container_instance", "changed"],
    ]);
    expect(out.results[0]).toMatchObject({ instance_id: instanceId(1) });
    expect(out.results[2]).not.toHaveProperty("instance_id");
    expect(f.nodes.calls.filter((c) => c.operation === "act")).toEqual([
      expect.objectContaining({ id: NODES, action: "START", size: 2, retryToken: expect.any(String) }),
    ]);
    expect(f.nodes.state(NODES)).toMatchObject({ size: 2, lifecycleState: "RUNNING" });
  });

  it("dry run acts on no kind; a second run is unchanged and sends nothing", async () => {
    const f = fleet();
    const ids = [NODES, CI];
    const req = powerRequest({ kind: "ids", ids }, { action: "SOFTSTOP" });
    const plan = await run(f, { ...req, dryRun: true });
    expect(plan.results.map((r) => r.outcome)).toEqual(["unchanged", "unchanged"]);
    const started = await run(f, powerRequest({ kind: "ids", ids: [CI] }, { dryRun: true }));
    expect(started.results.map((r) => r.outcome)).toEqual(["planned"]);
    expect([...f.nodes.calls, ...f.containers.calls].filter((c) => c.operation === "act")).toEqual([]);
  });

  it("start of a node pool with no recorded size and no size fails NoRecordedSize", async () => {
    const f = fleet();
    const out = await run(f, powerRequest({ kind: "ids", ids: [NODES] }));
    expect(out.results).toEqual([
      expect.objectContaining({
        target_id: NODES,
        outcome: "failed",
        error: expect.objectContaining({ code: "NoRecordedSize" }),
      }),
    ]);
  });

  it("a stop round trip records and restores the size", async () => {
    const f = fleet();
    f.nodes.put({
      id: NODES,
      compartmentId: COMP_A,
      lifecycleState: "RUNNING",
      size: 5,
      freeformTags: { a: "b" },
    });
    const stopped = await run(f, powerRequest({ kind: "ids", ids: [NODES] }, { action: "SOFTSTOP" }));
    expect(stopped.results[0]).toMatchObject({ outcome: "changed", size: 0 });
    expect(f.nodes.state(NODES)?.freeformTags).toEqual({ a: "b", "power-previous-size": "5" });
    const started = await run(f, powerRequest({ kind: "ids", ids: [NODES] }));
    expect(started.results[0]).toMatchObject({ outcome: "changed", size: 5 });
  });

  it("a compartment selection by kinds leaves a selected pool's members to the pool", async () => {
    const f = fleet();
    const targets: Targets = {
      kind: "compartment",
      compartmentId: COMP_A,
      freeformTags: { night: "off" },
      definedTags: {},
      kinds: ["instance", "instance_pool"],
    };
    const out = await run(f, powerRequest(targets, { action: "SOFTSTOP" }));
    expect(out.results.map((r) => [r.target_id, r.outcome])).toEqual([
      [instanceId(1), "unchanged"],
      [POOL, "changed"],
    ]);
    expect(out.results[1]?.member_ids).toEqual([instanceId(2), instanceId(3)]);
    expect(f.compute.calls.filter((c) => c.operation === "InstanceAction")).toEqual([]);
  });
});

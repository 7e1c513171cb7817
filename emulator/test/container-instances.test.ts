/**
 * Container instances through the real oci-containerinstances ContainerInstanceClient (real signing):
 * get, list, start/stop with their work requests and lifecycles, no-ops, 409/412, retry tokens,
 * capacity failures, faults and authorization.
 */
import * as ci from "oci-containerinstances";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedApiKey } from "../src/admin-client.js";
import type { RunningEmulator } from "../src/index.js";
import {
  apiKeyProvider,
  COMPARTMENT_A,
  COMPARTMENT_B,
  emulator,
  NO_RETRY,
  ociError,
  signedFetch,
  until,
} from "./helpers.js";

let emu: RunningEmulator;
let key: GeneratedApiKey;
let client: ci.ContainerInstanceClient;

function containers(k: GeneratedApiKey): ci.ContainerInstanceClient {
  const c = new ci.ContainerInstanceClient({ authenticationDetailsProvider: apiKeyProvider(k) });
  c.endpoint = emu.url;
  return c;
}

beforeAll(async () => {
  emu = await emulator({}, 0.001);
  key = await emu.admin.generateApiKey();
  client = containers(key);
});
afterAll(async () => await emu.close());

async function seed(fields: Record<string, unknown>) {
  const [one] = await emu.admin.putContainerInstances([{ compartmentId: COMPARTMENT_A, ...fields }]);
  if (!one) throw new Error("seed failed");
  return one;
}

async function finished(workRequestId: string) {
  return await until(`work request ${workRequestId} finished`, async () => {
    const { workRequest } = await client.getWorkRequest({ workRequestId });
    const done = workRequest.status === "SUCCEEDED" || workRequest.status === "FAILED";
    return { done: done ? workRequest : undefined, seen: workRequest.status };
  });
}

describe("get and list", () => {
  it("GetContainerInstance answers the SDK model with an etag", async () => {
    const one = await seed({
      displayName: "api",
      lifecycleState: "INACTIVE",
      freeformTags: { on: "demand" },
    });
    const got = await client.getContainerInstance({ containerInstanceId: one.id });
    expect(got.containerInstance).toMatchObject({
      id: one.id,
      displayName: "api",
      compartmentId: COMPARTMENT_A,
      lifecycleState: "INACTIVE",
      containerCount: 1,
      freeformTags: { on: "demand" },
    });
    expect(got.etag).toBeTruthy();
  });

  it("ListContainerInstances answers {items}, pages and filters by lifecycleState and displayName", async () => {
    const compartmentId = "ocid1.compartment.oc1..aaaaaaaacontainers";
    await emu.admin.putContainerInstances(
      Array.from({ length: 4 }, (_, i) => ({
        compartmentId,
        displayName: `c${i}`,
        lifecycleState: i < 3 ? "ACTIVE" : "INACTIVE",
      })),
    );
    const first = await client.listContainerInstances({ compartmentId, limit: 3 });
    expect(first.containerInstanceCollection.items.map((c) => c.displayName)).toEqual(["c0", "c1", "c2"]);
    const rest = await client.listContainerInstances({
      compartmentId,
      limit: 3,
      page: first.opcNextPage ?? "",
    });
    expect(rest.containerInstanceCollection.items.map((c) => c.displayName)).toEqual(["c3"]);
    const inactive = await client.listContainerInstances({
      compartmentId,
      lifecycleState: ci.models.ContainerInstance.LifecycleState.Inactive,
    });
    expect(inactive.containerInstanceCollection.items.map((c) => c.displayName)).toEqual(["c3"]);
    const named = await client.listContainerInstances({ compartmentId, displayName: "c1" });
    expect(named.containerInstanceCollection.items).toHaveLength(1);
  });
});

describe("start and stop, each with a work request", () => {
  it("stop: ACTIVE → UPDATING → INACTIVE; start: back to ACTIVE; work requests SUCCEEDED", async () => {
    const one = await seed({ lifecycleState: "ACTIVE" });
    const stop = await client.stopContainerInstance({ containerInstanceId: one.id });
    expect(stop.opcWorkRequestId).toBeTruthy();
    expect(await finished(stop.opcWorkRequestId)).toMatchObject({
      status: "SUCCEEDED",
      operationType: "STOP_CONTAINER_INSTANCE",
      percentComplete: 100,
      resources: [expect.objectContaining({ identifier: one.id, entityType: "containerInstance" })],
    });
    expect(
      (await client.getContainerInstance({ containerInstanceId: one.id })).containerInstance.lifecycleState,
    ).toBe("INACTIVE");
    const start = await client.startContainerInstance({ containerInstanceId: one.id });
    expect((await finished(start.opcWorkRequestId)).operationType).toBe("START_CONTAINER_INSTANCE");
    const { stateHistory } = await emu.admin.getContainerInstance(one.id);
    expect(stateHistory.map((h) => h.state)).toEqual([
      "ACTIVE",
      "UPDATING",
      "INACTIVE",
      "UPDATING",
      "ACTIVE",
    ]);
    const [, updating, inactive] = stateHistory;
    expect((inactive?.at ?? 0) - (updating?.at ?? 0)).toBe(30);
  });

  it("already there: 202 with a work request that has already SUCCEEDED, no transition", async () => {
    const one = await seed({ lifecycleState: "INACTIVE" });
    await emu.admin.clearCalls();
    const res = await client.stopContainerInstance({ containerInstanceId: one.id });
    const { workRequest } = await client.getWorkRequest({ workRequestId: res.opcWorkRequestId });
    expect(workRequest.status).toBe("SUCCEEDED");
    const { calls } = await emu.admin.calls();
    expect(calls.find((c) => c.operation === "StopContainerInstance")).toMatchObject({
      status: 202,
      transition: false,
      targetId: one.id,
      action: "STOP",
    });
  });

  it("start while stopping is 409 IncorrectState; a second stop meanwhile is a no-op", async () => {
    await emu.admin.setTimings({ timeScale: 1 });
    try {
      const one = await seed({ lifecycleState: "ACTIVE" });
      await client.stopContainerInstance({ containerInstanceId: one.id });
      await client.stopContainerInstance({ containerInstanceId: one.id });
      // This SDK retries 409 by default (unlike oci-core): one attempt shows the answer itself.
      const err = await ociError(() =>
        client.startContainerInstance({ containerInstanceId: one.id, retryConfiguration: NO_RETRY }),
      );
      expect(err).toMatchObject({ statusCode: 409, serviceCode: "IncorrectState" });
      expect(err.message).toMatch(/UPDATING \(moving to INACTIVE\)/);
    } finally {
      await emu.admin.setTimings({ timeScale: 0.001 });
    }
  });

  it("out of capacity: the start's work request FAILS, the container instance stays INACTIVE", async () => {
    const one = await seed({ lifecycleState: "INACTIVE" });
    await emu.admin.setFaults({ outOfCapacity: { instanceIds: [one.id] } });
    try {
      const res = await client.startContainerInstance({ containerInstanceId: one.id });
      expect((await finished(res.opcWorkRequestId)).status).toBe("FAILED");
      const errors = await client.listWorkRequestErrors({ workRequestId: res.opcWorkRequestId });
      expect(errors.workRequestErrorCollection.items).toEqual([
        expect.objectContaining({ message: "Out of host capacity." }),
      ]);
      const got = await client.getContainerInstance({ containerInstanceId: one.id });
      expect(got.containerInstance.lifecycleState).toBe("INACTIVE");
    } finally {
      await emu.admin.setFaults({});
    }
  });

  it("opc-retry-token: a repeated start is replayed (same work request), one transition", async () => {
    const one = await seed({ lifecycleState: "INACTIVE" });
    const path = `/20210415/containerInstances/${one.id}/actions/start`;
    const headers = { "opc-retry-token": "ci-token-1" };
    const first = await signedFetch(emu, key, "POST", path, { body: "", headers });
    const second = await signedFetch(emu, key, "POST", path, { body: "", headers });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.headers.get("opc-work-request-id")).toBe(first.headers.get("opc-work-request-id"));
    const { calls } = await emu.admin.calls();
    const starts = calls.filter((c) => c.operation === "StartContainerInstance" && c.targetId === one.id);
    expect(starts.map((c) => [c.replayed, c.transition])).toEqual([
      [false, true],
      [true, false],
    ]);
  });
});

describe("if-match, faults and authorization", () => {
  it("if-match must match (412)", async () => {
    const one = await seed({ lifecycleState: "ACTIVE" });
    const err = await ociError(() =>
      client.stopContainerInstance({ containerInstanceId: one.id, ifMatch: "x" }),
    );
    expect(err).toMatchObject({ statusCode: 412, serviceCode: "NoEtagMatch" });
  });

  it("injected 500s and dropped connections reach container-instance calls", async () => {
    const one = await seed({});
    try {
      await emu.admin.setFaults({ errorRate: { fraction: 1, statuses: [500] } });
      const err = await ociError(() =>
        client.getContainerInstance({ containerInstanceId: one.id, retryConfiguration: NO_RETRY }),
      );
      expect(err.statusCode).toBe(500);
      await emu.admin.setFaults({ dropRate: { fraction: 1 } });
      await expect(
        client.getContainerInstance({ containerInstanceId: one.id, retryConfiguration: NO_RETRY }),
      ).rejects.toBeDefined();
      const { calls } = await emu.admin.calls();
      expect(calls.filter((c) => c.targetId === one.id).map((c) => c.fault)).toEqual(
        expect.arrayContaining(["errorRate", "drop"]),
      );
    } finally {
      await emu.admin.setFaults({});
    }
  });

  it("a key limited to another compartment gets 404 everywhere", async () => {
    const one = await seed({ lifecycleState: "ACTIVE" });
    const own = await client.stopContainerInstance({ containerInstanceId: one.id });
    const other = containers(await emu.admin.generateApiKey({ compartments: [COMPARTMENT_B] }));
    for (const call of [
      () => other.getContainerInstance({ containerInstanceId: one.id }),
      () => other.startContainerInstance({ containerInstanceId: one.id }),
      () => other.listContainerInstances({ compartmentId: COMPARTMENT_A }),
      () => other.getWorkRequest({ workRequestId: own.opcWorkRequestId }),
    ]) {
      expect(await ociError(call)).toMatchObject({ statusCode: 404, serviceCode: "NotAuthorizedOrNotFound" });
    }
  });

  it("malformed ids are 400; a seeded state outside the service's states is refused naming the field", async () => {
    const err = await ociError(() =>
      client.getContainerInstance({ containerInstanceId: "ocid1.instance.oc1.iad.x" }),
    );
    expect(err).toMatchObject({ statusCode: 400, serviceCode: "InvalidParameter" });
    await expect(emu.admin.putContainerInstances([{ lifecycleState: "RUNNING" }])).rejects.toThrow(
      /containerInstances\[\]\.lifecycleState must be one of CREATING, UPDATING, ACTIVE, INACTIVE/,
    );
  });
});

import type * as core from "oci-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedApiKey } from "../src/admin-client.js";
import type { RunningEmulator } from "../src/index.js";
import {
  action,
  apiKeyProvider,
  COMPARTMENT_A,
  COMPARTMENT_B,
  compute,
  emulator,
  NO_RETRY,
  ociError,
  signedFetch,
  waitForState,
} from "./helpers.js";

let emu: RunningEmulator;
let key: GeneratedApiKey;
let client: core.ComputeClient;

beforeAll(async () => {
  // 30 s of OCI time per START/STOP become 30 ms.
  emu = await emulator({}, 0.001);
  key = await emu.admin.generateApiKey();
  client = compute(emu, apiKeyProvider(key));
});
afterAll(async () => await emu.close());

async function seed(state: "RUNNING" | "STOPPED" | "TERMINATED", extra: Record<string, unknown> = {}) {
  const [inst] = await emu.admin.putInstances([
    { compartmentId: COMPARTMENT_A, lifecycleState: state, ...extra },
  ]);
  if (!inst) throw new Error("seed failed");
  return inst.id;
}

describe("lifecycle", () => {
  it("STOPPED -> STARTING -> RUNNING, observable in stateHistory", async () => {
    const id = await seed("STOPPED");
    const res = await client.instanceAction({ instanceId: id, action: action("START") });
    expect(res.instance.lifecycleState).toBe("STARTING");
    expect(res.etag).toBeTruthy();
    await waitForState(emu, id, "RUNNING");
    const got = await client.getInstance({ instanceId: id });
    expect(got.instance.lifecycleState).toBe("RUNNING");
    expect(got.etag).not.toBe(res.etag);
    const { stateHistory } = await emu.admin.getInstance(id);
    expect(stateHistory.map((h) => h.state)).toEqual(["STOPPED", "STARTING", "RUNNING"]);
    const [, starting, running] = stateHistory;
    expect((running?.at ?? 0) - (starting?.at ?? 0)).toBe(30);
  });

  it("SOFTSTOP takes longer than STOP; RESET goes through STOPPING and STARTING", async () => {
    const a = await seed("RUNNING");
    const b = await seed("RUNNING");
    const c = await seed("RUNNING");
    await client.instanceAction({ instanceId: a, action: action("STOP") });
    await client.instanceAction({ instanceId: b, action: action("SOFTSTOP") });
    await client.instanceAction({ instanceId: c, action: action("RESET") });
    await waitForState(emu, b, "STOPPED");
    await waitForState(emu, c, "RUNNING");
    const span = async (id: string) => {
      const h = (await emu.admin.getInstance(id)).stateHistory;
      return (h.at(-1)?.at ?? 0) - (h.at(-2)?.at ?? 0);
    };
    expect(await span(b)).toBeGreaterThan(await span(a));
    const reset = (await emu.admin.getInstance(c)).stateHistory.map((h) => h.state);
    expect(reset).toEqual(["RUNNING", "STOPPING", "STARTING", "RUNNING"]);
  });

  it("START on RUNNING and STOP on STOPPED are 200 no-ops without a transition", async () => {
    const running = await seed("RUNNING");
    const stopped = await seed("STOPPED");
    expect(
      (await client.instanceAction({ instanceId: running, action: action("START") })).instance.lifecycleState,
    ).toBe("RUNNING");
    expect(
      (await client.instanceAction({ instanceId: stopped, action: action("STOP") })).instance.lifecycleState,
    ).toBe("STOPPED");
    const { calls } = await emu.admin.calls();
    expect(calls.slice(-2).map((c) => c.transition)).toEqual([false, false]);
    expect((await emu.admin.getInstance(running)).stateHistory).toHaveLength(1);
  });

  it("an action that does not fit the state is 409 IncorrectState; TERMINATED can't be acted on", async () => {
    const stopped = await seed("STOPPED");
    await emu.admin.setTimings({ timeScale: 1 });
    try {
      await client.instanceAction({ instanceId: stopped, action: action("START") });
      const err = await ociError(() =>
        client.instanceAction({ instanceId: stopped, action: action("STOP"), retryConfiguration: NO_RETRY }),
      );
      expect([err.statusCode, err.serviceCode]).toEqual([409, "IncorrectState"]);
    } finally {
      await emu.admin.setTimings({ timeScale: 0.001 });
    }
    const terminated = await seed("TERMINATED");
    for (const a of ["START", "STOP", "RESET"] as const) {
      const err = await ociError(() =>
        client.instanceAction({ instanceId: terminated, action: action(a), retryConfiguration: NO_RETRY }),
      );
      expect([err.statusCode, err.serviceCode]).toEqual([409, "IncorrectState"]);
    }
    const stoppedToo = await seed("STOPPED");
    const resetStopped = await ociError(() =>
      client.instanceAction({
        instanceId: stoppedToo,
        action: action("RESET"),
        retryConfiguration: NO_RETRY,
      }),
    );
    expect(resetStopped.statusCode).toBe(409);
  });

  it("an unknown instance is 404 NotAuthorizedOrNotFound", async () => {
    const err = await ociError(() =>
      client.getInstance({ instanceId: "ocid1.instance.oc1.iad.doesnotexist", retryConfiguration: NO_RETRY }),
    );
    expect([err.statusCode, err.serviceCode]).toEqual([404, "NotAuthorizedOrNotFound"]);
  });
});

describe("listing", () => {
  it("pages with limit and opc-next-page, and filters by lifecycleState and displayName", async () => {
    const created = await emu.admin.putInstances(
      Array.from({ length: 25 }, (_, i) => ({
        compartmentId: COMPARTMENT_B,
        displayName: `web-${i}`,
        lifecycleState: i % 5 === 0 ? ("STOPPED" as const) : ("RUNNING" as const),
      })),
    );
    const seen: string[] = [];
    let page: string | undefined;
    let pages = 0;
    do {
      const res = await client.listInstances({
        compartmentId: COMPARTMENT_B,
        limit: 10,
        ...(page ? { page } : {}),
      });
      seen.push(...res.items.map((i) => i.id));
      page = res.opcNextPage;
      pages++;
    } while (page);
    expect(pages).toBe(3);
    expect(seen).toEqual(created.map((i) => i.id));

    const stopped = await client.listInstances({
      compartmentId: COMPARTMENT_B,
      lifecycleState: "STOPPED" as never,
    });
    expect(stopped.items).toHaveLength(5);
    const named = await client.listInstances({ compartmentId: COMPARTMENT_B, displayName: "web-7" });
    expect(named.items.map((i) => i.displayName)).toEqual(["web-7"]);
  });

  it("rejects a bad page token, limit or lifecycleState with 400", async () => {
    for (const q of ["page=garbage", "limit=0", "limit=abc", "lifecycleState=SLEEPING"]) {
      const res = await signedFetch(
        emu,
        key,
        "GET",
        `/20160918/instances?compartmentId=${COMPARTMENT_B}&${q}`,
      );
      expect(res.status, q).toBe(400);
    }
    const missing = await signedFetch(emu, key, "GET", "/20160918/instances");
    expect(missing.status).toBe(400);
  });
});

describe("retry tokens", () => {
  it("a repeated token returns the first answer and causes no second transition", async () => {
    const id = await seed("STOPPED");
    const first = await client.instanceAction({
      instanceId: id,
      action: action("START"),
      opcRetryToken: "token-1",
    });
    await waitForState(emu, id, "RUNNING");
    const again = await client.instanceAction({
      instanceId: id,
      action: action("START"),
      opcRetryToken: "token-1",
    });
    expect(again.instance.lifecycleState).toBe("STARTING");
    expect(again.etag).toBe(first.etag);
    const { calls } = await emu.admin.calls();
    expect(calls.slice(-2).map((c) => [c.retryToken, c.replayed, c.transition])).toEqual([
      ["token-1", false, true],
      ["token-1", true, false],
    ]);
    // A new token on the now-running instance is a real (no-op) request again.
    const fresh = await client.instanceAction({
      instanceId: id,
      action: action("START"),
      opcRetryToken: "token-2",
    });
    expect(fresh.instance.lifecycleState).toBe("RUNNING");
    expect((await emu.admin.getInstance(id)).stateHistory).toHaveLength(3);
  });

  it("the same token from another principal is not replayed", async () => {
    const id = await seed("RUNNING");
    await client.instanceAction({ instanceId: id, action: action("STOP"), opcRetryToken: "shared" });
    await waitForState(emu, id, "STOPPED");
    const other = compute(emu, apiKeyProvider(await emu.admin.generateApiKey()));
    const res = await other.instanceAction({
      instanceId: id,
      action: action("STOP"),
      opcRetryToken: "shared",
    });
    expect(res.instance.lifecycleState).toBe("STOPPED");
  });
});

describe("bad input gets an OCI-shaped 400", () => {
  it.each([
    ["malformed OCID", "GET", "/20160918/instances/not-an-ocid", undefined],
    ["unknown action", "POST", "/20160918/instances/ocid1.instance.oc1.iad.aaaa?action=EXPLODE", ""],
    ["missing action", "POST", "/20160918/instances/ocid1.instance.oc1.iad.aaaa", ""],
    ["malformed JSON", "POST", "/20160918/instances/ocid1.instance.oc1.iad.aaaa?action=START", "{not json"],
    [
      "oversized body",
      "POST",
      "/20160918/instances/ocid1.instance.oc1.iad.aaaa?action=START",
      "x".repeat(1024 * 1024 + 1),
    ],
  ])("%s", async (_name, method, path, body) => {
    const res = await signedFetch(emu, key, method, path, body === undefined ? {} : { body });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    expect(res.headers.get("opc-request-id")).toBeTruthy();
    expect((await emu.admin.health()).ok).toBe(true);
  });

  it("the SDK sees a malformed OCID as 400 InvalidParameter", async () => {
    const err = await ociError(() =>
      client.getInstance({ instanceId: "bogus", retryConfiguration: NO_RETRY }),
    );
    expect([err.statusCode, err.serviceCode]).toEqual([400, "InvalidParameter"]);
  });

  it("the admin API answers malformed JSON with 400 too", async () => {
    const res = await fetch(`${emu.url}/_emulator/instances`, { method: "POST", body: "{" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "InvalidParameter" });
  });
});

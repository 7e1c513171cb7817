import type * as core from "oci-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../src/index.js";
import {
  action,
  apiKeyProvider,
  COMPARTMENT_A,
  compute,
  emulator,
  NO_RETRY,
  ociError,
  signedFetch,
  waitForState,
} from "./helpers.js";

let emu: RunningEmulator;
let client: core.ComputeClient;

beforeAll(async () => {
  emu = await emulator({}, 0.001);
  client = compute(emu, apiKeyProvider(await emu.admin.generateApiKey()));
});
afterEach(async () => {
  await emu.admin.setFaults({});
});
afterAll(async () => await emu.close());

async function seed(state: "RUNNING" | "STOPPED", extra: Record<string, unknown> = {}) {
  const [inst] = await emu.admin.putInstances([
    { compartmentId: COMPARTMENT_A, lifecycleState: state, ...extra },
  ]);
  if (!inst) throw new Error("seed failed");
  return inst.id;
}

/** Whatever the SDK rejects with when the connection drops (network errors are not OciErrors). */
async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("fault injection as the SDK surfaces it", () => {
  it("rate limit per principal: 429 TooManyRequests with retry-after", async () => {
    const id = await seed("RUNNING");
    await emu.admin.setFaults({ rateLimit: { perSecond: 0.5, burst: 2 } });
    await client.getInstance({ instanceId: id });
    await client.getInstance({ instanceId: id });
    const err = await ociError(() => client.getInstance({ instanceId: id, retryConfiguration: NO_RETRY }));
    expect([err.statusCode, err.serviceCode]).toEqual([429, "TooManyRequests"]);
    const { calls } = await emu.admin.calls();
    expect(calls.at(-1)).toMatchObject({ status: 429, fault: "rateLimit" });
    // Another principal has its own bucket.
    const other = compute(emu, apiKeyProvider(await emu.admin.generateApiKey()));
    expect((await other.getInstance({ instanceId: id })).instance.id).toBe(id);
  });

  it("rate limit answer carries retry-after in seconds", async () => {
    const id = await seed("RUNNING");
    await emu.admin.setFaults({ rateLimit: { perSecond: 0.25, burst: 1 } });
    const key = await emu.admin.generateApiKey();
    expect((await signedFetch(emu, key, "GET", `/20160918/instances/${id}`)).status).toBe(200);
    const limited = await signedFetch(emu, key, "GET", `/20160918/instances/${id}`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.json).toMatchObject({ code: "TooManyRequests" });
  });

  it.each([
    [500, "InternalError"],
    [503, "ServiceUnavailable"],
  ])("error rate: %i %s", async (status, code) => {
    const id = await seed("RUNNING");
    await emu.admin.setFaults({ errorRate: { fraction: 1, statuses: [status] }, seed: 7 });
    const err = await ociError(() => client.getInstance({ instanceId: id, retryConfiguration: NO_RETRY }));
    expect([err.statusCode, err.serviceCode]).toEqual([status, code]);
  });

  it("a seeded error rate hits a reproducible subset", async () => {
    const id = await seed("RUNNING");
    const run = async () => {
      await emu.admin.setFaults({ errorRate: { fraction: 0.5 }, seed: 42 });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) {
        try {
          await client.getInstance({ instanceId: id, retryConfiguration: NO_RETRY });
          out.push(200);
        } catch (e) {
          out.push((e as { statusCode: number }).statusCode);
        }
      }
      return out;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first).toContain(200);
    expect(first.filter((s) => s !== 200)).not.toEqual([]);
  });

  it("out of host capacity on START for chosen instances and shapes; no transition", async () => {
    const byId = await seed("STOPPED");
    const byShape = await seed("STOPPED", { shape: "BM.GPU.H100.8" });
    const fine = await seed("STOPPED");
    await emu.admin.setFaults({ outOfCapacity: { instanceIds: [byId], shapes: ["BM.GPU.H100.8"] } });
    for (const id of [byId, byShape]) {
      const err = await ociError(() =>
        client.instanceAction({ instanceId: id, action: action("START"), retryConfiguration: NO_RETRY }),
      );
      expect([err.statusCode, err.serviceCode, err.message]).toEqual([
        500,
        "InternalError",
        "Out of host capacity.",
      ]);
      expect((await emu.admin.getInstance(id)).lifecycleState).toBe("STOPPED");
    }
    expect(
      (await client.instanceAction({ instanceId: fine, action: action("START") })).instance.lifecycleState,
    ).toBe("STARTING");
  });

  it("hold keeps chosen instances in their transitional state", async () => {
    const held = await seed("STOPPED");
    const free = await seed("STOPPED");
    await emu.admin.setFaults({ hold: { instanceIds: [held], ms: 60_000 } });
    await client.instanceAction({ instanceId: held, action: action("START") });
    await client.instanceAction({ instanceId: free, action: action("START") });
    await waitForState(emu, free, "RUNNING");
    expect((await client.getInstance({ instanceId: held })).instance.lifecycleState).toBe("STARTING");
  });

  it("latency delays answers", async () => {
    const id = await seed("RUNNING");
    await emu.admin.setFaults({ latencyMs: 50 });
    await client.getInstance({ instanceId: id });
    const { calls } = await emu.admin.calls();
    expect(calls.at(-1)?.durationMs).toBeGreaterThanOrEqual(50);
  });

  it("dropped connection before processing: the SDK sees a network error, nothing happened", async () => {
    const id = await seed("STOPPED");
    await emu.admin.setFaults({ dropRate: { fraction: 1 } });
    const e = await rejection(() =>
      client.instanceAction({ instanceId: id, action: action("START"), retryConfiguration: NO_RETRY }),
    );
    // No HTTP answer at all: the SDK throws a plain object (not an Error) naming the request.
    expect(e).toMatchObject({
      message: "fetch failed",
      requestEndpoint: `POST ${emu.url}/20160918/instances/${id}?action=START`,
    });
    expect(e).not.toHaveProperty("statusCode");
    await emu.admin.setFaults({});
    expect((await emu.admin.getInstance(id)).lifecycleState).toBe("STOPPED");
    const { calls } = await emu.admin.calls();
    expect(calls.at(-1)).toMatchObject({ status: 0, fault: "drop", transition: false });
  });

  it("dropped connection after processing: the retry with the same token is replayed", async () => {
    const id = await seed("STOPPED");
    await emu.admin.setFaults({ dropRate: { fraction: 1, afterProcessing: true } });
    await rejection(() =>
      client.instanceAction({
        instanceId: id,
        action: action("START"),
        opcRetryToken: "drop-1",
        retryConfiguration: NO_RETRY,
      }),
    );
    await emu.admin.setFaults({});
    const retried = await client.instanceAction({
      instanceId: id,
      action: action("START"),
      opcRetryToken: "drop-1",
    });
    expect(retried.instance.lifecycleState).toBe("STARTING");
    const { calls } = await emu.admin.calls();
    expect(calls.slice(-2).map((c) => [c.status, c.fault ?? null, c.transition, c.replayed])).toEqual([
      [0, "dropAfter", true, false],
      [200, null, false, true],
    ]);
    await waitForState(emu, id, "RUNNING");
    expect((await emu.admin.getInstance(id)).stateHistory.map((h) => h.state)).toEqual([
      "STOPPED",
      "STARTING",
      "RUNNING",
    ]);
  });

  it("fault-injected answers are not cached under the retry token", async () => {
    const id = await seed("STOPPED");
    await emu.admin.setFaults({ errorRate: { fraction: 1, statuses: [503] } });
    await ociError(() =>
      client.instanceAction({
        instanceId: id,
        action: action("START"),
        opcRetryToken: "t-503",
        retryConfiguration: NO_RETRY,
      }),
    );
    await emu.admin.setFaults({});
    const ok = await client.instanceAction({
      instanceId: id,
      action: action("START"),
      opcRetryToken: "t-503",
    });
    expect(ok.instance.lifecycleState).toBe("STARTING");
  });

  it("rejects invalid fault settings with 400", async () => {
    const res = await fetch(`${emu.url}/_emulator/faults`, {
      method: "PUT",
      body: JSON.stringify({ errorRate: { fraction: 2 } }),
    });
    expect(res.status).toBe(400);
  });

  it("faults from the initial state apply from the start", async () => {
    const other = await emulator({ faults: { errorRate: { fraction: 1, statuses: [503] } } });
    try {
      const c = compute(other, apiKeyProvider(await other.admin.generateApiKey()));
      const err = await ociError(() =>
        c.getInstance({ instanceId: "ocid1.instance.oc1.iad.aaaa", retryConfiguration: NO_RETRY }),
      );
      expect(err.statusCode).toBe(503);
    } finally {
      await other.close();
    }
  });
});

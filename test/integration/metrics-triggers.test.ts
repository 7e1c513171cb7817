/**
 * Issue 15, the function side, through the BUILT bundles over the Fn socket against the emulator:
 * each invocation's PostMetricData (signed by the function's resource principal, observed in the
 * emulator's Monitoring store), METRICS=off, a Monitoring fault that leaves the answer alone with one
 * log line, a Connector Hub batch (base64, plain and bad messages) and OCI Events envelopes mapped
 * by EVENT_RULES.
 */
import { describe, expect, it } from "vitest";
import { AlertsAdmin } from "../../emulator/src/alerts-admin.js";
import type { FnProcess } from "../../emulator/src/fn-agent.js";
import { useWorld } from "../helpers/world.js";

const DEV = "ocid1.compartment.oc1..dev";
const world = useWorld({ timeScale: 0.01, functions: [] });

async function put(state: string): Promise<string> {
  const [i] = await world.emu.admin.putInstances([{ compartmentId: DEV, lifecycleState: state }]);
  return i?.id ?? "";
}

/** A function process with its own freshly minted resource principal (so its calls are its own). */
async function fnWith(kind: "start" | "stop", env: Record<string, string> = {}) {
  const rp = await world.emu.admin.mintResourcePrincipal({ compartmentId: world.emu.tenancyId });
  const fn = await world.fn(kind, { ...rp.env, METRICS: "on", ...env });
  return { fn, principalId: rp.principalId };
}

async function callsSince(next: number) {
  return (await world.emu.admin.calls(next)).calls;
}

function logLines(callId: string): Record<string, unknown>[] {
  return world.logs
    .filter((l) => l.includes(`"call_id":"${callId}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const UPLOAD_EVENT = (bucket: string) => ({
  eventType: "com.oraclecloud.objectstorage.createobject",
  cloudEventsVersion: "0.1",
  eventTypeVersion: "2.0",
  source: "ObjectStorage",
  eventTime: new Date().toISOString(),
  contentType: "application/json",
  eventID: "unique-id-1",
  data: {
    compartmentId: DEV,
    resourceName: "report.csv",
    resourceId: "/n/ns/b/uploads/o/report.csv",
    additionalDetails: { bucketName: bucket, namespace: "ns" },
  },
});

describe("metrics posted by each invocation", () => {
  it("posts every outcome's count and invocations=1, dimensioned and signed by the resource principal", async () => {
    const alerts = new AlertsAdmin(world.emu.url);
    await alerts.clearDatapoints();
    const { fn, principalId } = await fnWith("start");
    const stopped = await put("STOPPED");
    const running = await put("RUNNING");
    const missing = "ocid1.instance.oc1.iad.doesnotexist000000000000000000000000000000000000000000000";
    const { next } = await world.emu.admin.calls();
    const res = await world.call(
      fn,
      { instance_ids: [stopped, running, missing], schedule: "office-hours" },
      { callId: "metrics-1" },
    );
    expect(res.body.summary).toMatchObject({ requested: 3, changed: 1, unchanged: 1, failed: 1 });

    const points = await alerts.datapoints({ namespace: "compute_power" });
    const byName = Object.fromEntries(points.map((p) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual(
      ["changed", "failed", "in_progress", "invocations", "planned", "skipped", "unchanged"].sort(),
    );
    expect(byName.changed?.value).toBe(1);
    expect(byName.unchanged?.value).toBe(1);
    expect(byName.failed?.value).toBe(1);
    expect(byName.in_progress?.value).toBe(0);
    expect(byName.invocations?.value).toBe(1);
    for (const p of points) {
      expect(p.compartmentId).toBe(world.emu.tenancyId);
      expect(p.dimensions).toEqual({
        function: "start-compute",
        action: "START",
        region: world.env.OCI_RESOURCE_PRINCIPAL_REGION,
        schedule: "office-hours",
      });
    }
    const posts = (await callsSince(next)).filter((c) => c.operation === "PostMetricData");
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ status: 200, principal: principalId });
  });

  it("counts a refused request as one failed invocation, without a schedule dimension", async () => {
    const alerts = new AlertsAdmin(world.emu.url);
    await alerts.clearDatapoints();
    const { fn } = await fnWith("stop");
    const res = await world.call(fn, { instance_id: "not-an-ocid" });
    expect(res.body).toMatchObject({ ok: false, error: { code: "InvalidParameter" } });
    const points = await alerts.datapoints({ namespace: "compute_power" });
    expect(points.find((p) => p.name === "failed")?.value).toBe(1);
    expect(points.find((p) => p.name === "invocations")?.dimensions).toEqual({
      function: "stop-compute",
      action: "SOFTSTOP",
      region: world.env.OCI_RESOURCE_PRINCIPAL_REGION,
    });
  });

  it("posts nothing with METRICS=off", async () => {
    const alerts = new AlertsAdmin(world.emu.url);
    await alerts.clearDatapoints();
    const { fn } = await fnWith("start", { METRICS: "off" });
    const id = await put("STOPPED");
    const { next } = await world.emu.admin.calls();
    const res = await world.call(fn, { instance_id: id });
    expect(res.body).toMatchObject({ ok: true, summary: { changed: 1 } });
    expect((await callsSince(next)).filter((c) => c.operation === "PostMetricData")).toEqual([]);
    expect(await alerts.datapoints({ namespace: "compute_power" })).toEqual([]);
  });

  it("a Monitoring failure leaves the answer as it was and writes exactly one log line", async () => {
    const alerts = new AlertsAdmin(world.emu.url);
    const { fn } = await fnWith("start");
    const id = await put("STOPPED");
    await alerts.setMonitoringFault({ status: 500, count: 1 });
    try {
      const res = await world.call(fn, { instance_id: id }, { callId: "metrics-fault-1" });
      expect(res.status).toBe(200);
      expect(res.gatewayStatus).toBe(200);
      expect(res.body).toMatchObject({ ok: true, summary: { requested: 1, changed: 1, failed: 0 } });
      const failures = logLines("metrics-fault-1").filter((l) => l.msg === "metrics not posted");
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ level: "warn", reason: expect.stringContaining("HTTP 500") });
      expect(JSON.stringify(failures[0])).not.toMatch(/BEGIN|PRIVATE|eyJ/);
    } finally {
      await alerts.setMonitoringFault(undefined);
    }
  });
});

describe("Connector Hub batches and OCI Events", () => {
  let start: FnProcess;
  const rules = (target: string) =>
    JSON.stringify([
      {
        name: "uploads",
        event_type: "com.oraclecloud.objectstorage.createobject",
        match: { "data.additionalDetails.bucketName": "uploads" },
        function: "start-compute",
        request: { instance_id: target },
      },
    ]);

  it("runs each message of a batch: base64, plain and a bad one reported in its place", async () => {
    ({ fn: start } = await fnWith("start", { METRICS: "off" }));
    const a = await put("STOPPED");
    const b = await put("STOPPED");
    const batch = [
      { id: "m-0", content: Buffer.from(JSON.stringify({ instance_id: a })).toString("base64") },
      { id: "m-1", content: JSON.stringify({ instance_id: b, wait: false }) },
      { id: "m-2", content: "this is not a request" },
    ];
    const res = await world.call(start, batch, { callId: "batch-1" });
    expect(res.body).toMatchObject({
      action: "START",
      ok: false,
      summary: { requested: 2, changed: 1, in_progress: 1, failed: 0 },
      trigger: { kind: "batch", messages: 3, failed_messages: 1 },
    });
    const messages = res.body.messages ?? [];
    expect(messages.map((m) => [m.index, m.id, m.ok])).toEqual([
      [0, "m-0", true],
      [1, "m-1", true],
      [2, "m-2", false],
    ]);
    expect(messages[0]?.results?.[0]).toMatchObject({ instance_id: a, outcome: "changed" });
    expect(messages[1]?.results?.[0]).toMatchObject({ instance_id: b, outcome: "in_progress" });
    expect(messages[2]?.error).toMatchObject({
      code: "InvalidParameter",
      message: expect.stringContaining("body[2].content"),
    });
    expect((await world.emu.admin.getInstance(a)).lifecycleState).toBe("RUNNING");
    expect(logLines("batch-1").filter((l) => l.msg === "message not run")).toHaveLength(1);
  });

  it("maps an Object Storage createobject event to the rule's start", async () => {
    const target = await put("STOPPED");
    const { fn } = await fnWith("start", { METRICS: "off", EVENT_RULES: rules(target) });
    const res = await world.call(fn, UPLOAD_EVENT("uploads"));
    expect(res.body).toMatchObject({
      action: "START",
      ok: true,
      trigger: { kind: "event", rule: "uploads", event_type: "com.oraclecloud.objectstorage.createobject" },
      results: [{ instance_id: target, outcome: "changed", state_after: "RUNNING" }],
    });
  });

  it("answers an event no rule matches with InvalidParameter and calls nothing", async () => {
    const target = await put("STOPPED");
    const { fn } = await fnWith("start", { METRICS: "off", EVENT_RULES: rules(target) });
    const { next } = await world.emu.admin.calls();
    const res = await world.call(fn, UPLOAD_EVENT("other-bucket"));
    expect(res.gatewayStatus).toBe(400);
    expect(res.body).toMatchObject({
      ok: false,
      error: {
        code: "InvalidParameter",
        message: expect.stringContaining("matches none of the 1 EVENT_RULES"),
      },
    });
    expect(await callsSince(next)).toEqual([]);
  });

  it("fails every invocation with a configuration error naming the bad rule and field", async () => {
    const bad = JSON.stringify([{ name: "x", event_type: "a.b", request: { instance_id: "nope" } }]);
    const { fn } = await fnWith("start", { METRICS: "off", EVENT_RULES: bad });
    const id = await put("STOPPED");
    for (const body of [{ instance_id: id }, UPLOAD_EVENT("uploads")]) {
      const res = await world.call(fn, body);
      expect(res.body).toMatchObject({
        ok: false,
        error: { code: "InvalidConfiguration", message: expect.stringContaining("EVENT_RULES [0].request") },
      });
    }
    expect((await world.emu.admin.getInstance(id)).lifecycleState).toBe("STOPPED");
  });
});

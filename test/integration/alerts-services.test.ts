/**
 * The emulator's Notifications (PublishMessage) and Monitoring ingestion (PostMetricData) through the
 * real SDKs (oci-ons, oci-monitoring) with real signing: an instance principal publishes (as the
 * management instance does), a resource principal and a config-file key post metrics (as the functions
 * do, with the body src/metrics.ts builds); authorisation, OCI's limits, faults, and the alarm queries
 * terraform/alerts.tf generates evaluated against what was stored.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuthenticationDetailsProvider } from "oci-common";
import { MonitoringClient, models } from "oci-monitoring";
import { NotificationDataPlaneClient } from "oci-ons";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  AlertsAdmin,
  ociConfigProfile,
  type RunningEmulator,
  startEmulator,
} from "../../emulator/src/index.js";
import { createAuthProvider } from "../../src/auth.js";
import { buildMetricData, type PostMetricDataBody, readMetricsConfig } from "../../src/metrics.js";

type PostMetricDataDetails = models.PostMetricDataDetails;
const { PostMetricDataDetails } = models;

const FLEET = "ocid1.compartment.oc1..aaaaaaaaalertsfleet";
const OTHER = "ocid1.compartment.oc1..aaaaaaaaalertsother";
const TOPIC = "ocid1.onstopic.oc1.iad.aaaaaaaaalertstopic";
const OTHER_TOPIC = "ocid1.onstopic.oc1.iad.aaaaaaaaalertsothertopic";
const MINUTE = 60_000;

let emu: RunningEmulator;
let alerts: AlertsAdmin;
let dir: string;
let instanceProvider: AuthenticationDetailsProvider;

beforeAll(async () => {
  emu = await startEmulator({
    state: { topics: [{ id: TOPIC, compartmentId: FLEET, name: "alerts" }] },
  });
  alerts = new AlertsAdmin(emu.url);
  await alerts.putTopics([{ id: OTHER_TOPIC, compartmentId: OTHER }]);
  dir = await mkdtemp(join(tmpdir(), "alerts-services-"));
  const ip = await emu.admin.createInstancePrincipal({
    instanceId: "ocid1.instance.oc1.iad.aaaaaaaaalertsmgmt",
    compartments: [FLEET],
  });
  instanceProvider = (
    await createAuthProvider({
      OCI_AUTH: "instance_principal",
      OCI_METADATA_BASE_URL: ip.metadataBaseUrl,
      OCI_FEDERATION_ENDPOINT: ip.federationEndpoint,
    })
  ).provider;
}, 60_000);

afterAll(async () => {
  await emu?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await emu.admin.setFaults({});
  await alerts.setNotificationFault(undefined);
  await alerts.setMonitoringFault(undefined);
});

function ons(provider = instanceProvider): NotificationDataPlaneClient {
  const client = new NotificationDataPlaneClient({ authenticationDetailsProvider: provider });
  client.endpoint = emu.url;
  return client;
}

async function monitoringAsFunction(compartments = [FLEET]): Promise<MonitoringClient> {
  const rp = await emu.admin.mintResourcePrincipal({ compartmentId: FLEET, compartments });
  for (const [k, v] of Object.entries(rp.env)) vi.stubEnv(k, v);
  const { provider } = await createAuthProvider({ ...rp.env, OCI_AUTH: "resource_principal" });
  const client = new MonitoringClient({ authenticationDetailsProvider: provider });
  client.endpoint = emu.url;
  return client;
}

async function serviceError(p: Promise<unknown>): Promise<{ statusCode: number; serviceCode: string }> {
  try {
    await p;
  } catch (e) {
    return e as { statusCode: number; serviceCode: string };
  }
  throw new Error("expected the call to fail");
}

/** The body src/metrics.ts builds, as the SDK's model types it (timestamps as Date). */
const metricsBody = (
  schedule: string,
  counts: Record<string, number>,
  at: number,
  compartmentId = FLEET,
): PostMetricDataDetails =>
  toSdk(
    buildMetricData(
      readMetricsConfig({}),
      compartmentId,
      { function: "stop-compute", action: "SOFTSTOP", region: "us-ashburn-1", schedule },
      counts,
      at,
    ),
  );

function toSdk(body: PostMetricDataBody): PostMetricDataDetails {
  return {
    batchAtomicity: PostMetricDataDetails.BatchAtomicity.NonAtomic,
    metricData: body.metricData.map((d) => ({
      ...d,
      datapoints: d.datapoints.map((p) => ({ ...p, timestamp: new Date(p.timestamp) })),
    })),
  };
}

describe("Notifications: PublishMessage", () => {
  it("an instance principal publishes to a topic in its compartment; the message log shows it", async () => {
    const { next } = await alerts.messages();
    const res = await ons().publishMessage({
      topicId: TOPIC,
      messageDetails: { title: "stop-office-hours failed", body: '{"status":"function_failed"}' },
    });
    expect(res.publishResult.messageId).toMatch(/^[0-9a-f-]{36}$/);
    const { messages } = await alerts.messages(next);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      topicId: TOPIC,
      title: "stop-office-hours failed",
      body: '{"status":"function_failed"}',
      principal: "ocid1.instance.oc1.iad.aaaaaaaaalertsmgmt",
      messageId: res.publishResult.messageId,
    });
  });

  it("a topic outside the caller's compartments, or one that does not exist, is 404", async () => {
    for (const topicId of [OTHER_TOPIC, "ocid1.onstopic.oc1.iad.aaaaaaaanosuchtopic"]) {
      const e = await serviceError(ons().publishMessage({ topicId, messageDetails: { body: "x" } }));
      expect(e).toMatchObject({ statusCode: 404, serviceCode: "NotAuthorizedOrNotFound" });
    }
  });

  it("refuses a message over 64 KB and an empty body, naming the limit or the field", async () => {
    const big = await serviceError(
      ons().publishMessage({ topicId: TOPIC, messageDetails: { body: "x".repeat(64 * 1024) } }),
    );
    expect(big).toMatchObject({ statusCode: 400, serviceCode: "InvalidParameter" });
    expect(String((big as unknown as Error).message)).toMatch(/64 KB/);
    const empty = await serviceError(ons().publishMessage({ topicId: TOPIC, messageDetails: { body: "" } }));
    expect(String((empty as unknown as Error).message)).toMatch(/body is required/);
  });

  it("an unsigned request is 401 and records nothing", async () => {
    const { next } = await alerts.messages();
    const res = await fetch(`${emu.url}/20181201/topics/${TOPIC}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ body: "forged" }),
    });
    expect(res.status).toBe(401);
    expect((await alerts.messages(next)).messages).toEqual([]);
  });

  it("a notifications fault fails the next publish only (count), then publishing works again", async () => {
    await alerts.setNotificationFault({ status: 503, count: 1 });
    const e = await serviceError(ons().publishMessage({ topicId: TOPIC, messageDetails: { body: "one" } }));
    expect(e).toMatchObject({ statusCode: 503, serviceCode: "ServiceUnavailable" });
    const ok = await ons().publishMessage({ topicId: TOPIC, messageDetails: { body: "two" } });
    expect(ok.publishResult.messageId).toBeTruthy();
  });
});

describe("Monitoring: PostMetricData", () => {
  it("a function's resource principal posts the metrics.ts body; every datapoint is stored with its dimensions", async () => {
    await alerts.clearDatapoints();
    const client = await monitoringAsFunction();
    const now = Date.now();
    const res = await client.postMetricData({
      postMetricDataDetails: metricsBody("stop-office-hours", { changed: 2, failed: 1 }, now),
    });
    expect(res.postMetricDataResponseDetails.failedMetricsCount).toBe(0);
    const points = await alerts.datapoints({ namespace: "compute_power" });
    expect(points.map((p) => [p.name, p.value]).sort()).toEqual(
      [
        ["changed", 2],
        ["failed", 1],
        ["in_progress", 0],
        ["invocations", 1],
        ["planned", 0],
        ["skipped", 0],
        ["unchanged", 0],
      ].sort(),
    );
    expect(points[0]?.dimensions).toEqual({
      function: "stop-compute",
      action: "SOFTSTOP",
      region: "us-ashburn-1",
      schedule: "stop-office-hours",
    });
    expect(points.every((p) => p.compartmentId === FLEET && p.timestamp === now)).toBe(true);
  });

  it("NON_ATOMIC: a reserved namespace or a stale timestamp fails that stream only, with a reason", async () => {
    await alerts.clearDatapoints();
    const client = await monitoringAsFunction();
    const body = metricsBody("s", {}, Date.now());
    const [first, second] = body.metricData;
    if (!first || !second) throw new Error("metricData too short");
    first.namespace = "oci_compute_power";
    second.datapoints = [{ timestamp: new Date(Date.now() - 3 * 3_600_000), value: 1, count: 1 }];
    const res = await client.postMetricData({ postMetricDataDetails: body });
    const details = res.postMetricDataResponseDetails;
    expect(details.failedMetricsCount).toBe(2);
    expect((details.failedMetrics ?? []).map((f) => f.message)).toEqual([
      expect.stringMatching(/reserved prefix/),
      expect.stringMatching(/not within 2 hours before/),
    ]);
    expect(await alerts.datapoints()).toHaveLength(body.metricData.length - 2);
  });

  it("a compartment the principal may not use is 404 and stores nothing; a config-file key may post", async () => {
    await alerts.clearDatapoints();
    const client = await monitoringAsFunction([FLEET]);
    const e = await serviceError(
      client.postMetricData({ postMetricDataDetails: metricsBody("s", {}, Date.now(), OTHER) }),
    );
    expect(e).toMatchObject({ statusCode: 404, serviceCode: "NotAuthorizedOrNotFound" });
    expect(await alerts.datapoints()).toEqual([]);

    const key = await emu.admin.generateApiKey({ userId: "ocid1.user.oc1..aaaaaaaaalertsuser" });
    const keyFile = join(dir, "key.pem");
    await writeFile(keyFile, key.privateKeyPem, { mode: 0o600 });
    const config = join(dir, "config");
    await writeFile(config, ociConfigProfile(key, keyFile), { mode: 0o600 });
    const { provider } = await createAuthProvider({ OCI_AUTH: "config_file", OCI_CONFIG_FILE: config });
    const asUser = new MonitoringClient({ authenticationDetailsProvider: provider });
    asUser.endpoint = emu.url;
    const res = await asUser.postMetricData({
      postMetricDataDetails: metricsBody("s", {}, Date.now(), OTHER),
    });
    expect(res.postMetricDataResponseDetails.failedMetricsCount).toBe(0);
  });

  it("a monitoring fault answers its status; the emulator-wide error rate applies too", async () => {
    const client = await monitoringAsFunction();
    await alerts.setMonitoringFault({ status: 500 });
    const e = await serviceError(
      client.postMetricData({ postMetricDataDetails: metricsBody("s", {}, Date.now()) }),
    );
    expect(e).toMatchObject({ statusCode: 500, serviceCode: "InternalError" });
    await alerts.setMonitoringFault(undefined);
    await emu.admin.setFaults({ errorRate: { fraction: 1, statuses: [503] } });
    const e2 = await serviceError(
      client.postMetricData({ postMetricDataDetails: metricsBody("s", {}, Date.now()) }),
    );
    expect(e2).toMatchObject({ statusCode: 503 });
  });
});

describe("Monitoring: the alarm queries of terraform/alerts.tf, evaluated on stored datapoints", () => {
  const FAILED = "failed[5m].groupBy(function, schedule).sum() > 0";
  const deadMan = (schedule: string) => `invocations[1500m]{schedule = "${schedule}"}.grouping().absent()`;
  const evaluate = (query: string, at: number) =>
    alerts.evaluateAlarm({
      query,
      namespace: "compute_power",
      compartmentId: FLEET,
      at: new Date(at).toISOString(),
    });

  it("failed > 0 fires for the schedule whose run failed, and only while the datapoint is in the window", async () => {
    await alerts.clearDatapoints();
    const client = await monitoringAsFunction();
    const now = Date.now();
    await client.postMetricData({ postMetricDataDetails: metricsBody("good", { changed: 3 }, now) });
    await client.postMetricData({ postMetricDataDetails: metricsBody("bad", { failed: 2 }, now) });
    const firing = await evaluate(FAILED, now + MINUTE);
    expect(firing.firing).toBe(true);
    expect(firing.streams.filter((s) => s.firing).map((s) => s.dimensions)).toEqual([
      { function: "stop-compute", schedule: "bad" },
    ]);
    expect((await evaluate(FAILED, now + 6 * MINUTE)).firing).toBe(false);
  });

  it("the dead-man's switch is quiet while invocations arrive and fires once none came for the interval", async () => {
    await alerts.clearDatapoints();
    const client = await monitoringAsFunction();
    const now = Date.now();
    await client.postMetricData({ postMetricDataDetails: metricsBody("nightly", {}, now) });
    expect((await evaluate(deadMan("nightly"), now + 24 * 60 * MINUTE)).firing).toBe(false);
    const late = await evaluate(deadMan("nightly"), now + 1501 * MINUTE);
    expect(late.firing).toBe(true);
    expect(late.streams[0]?.reason).toMatch(/no datapoint in the last 1500 min/);
    const never = await evaluate(deadMan("never-ran"), now);
    expect(never).toMatchObject({ firing: true, streams: [{ reason: "no datapoint has ever matched" }] });
  });

  it("a query outside the supported subset is refused naming what is supported", async () => {
    await expect(evaluate("failed[5m].rate() > 0", Date.now())).rejects.toThrow(/supported: metric\[N/);
    await expect(evaluate("failed[5m].sum()", Date.now())).rejects.toThrow(/needs a comparison/);
  });
});

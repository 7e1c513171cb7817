import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../src/clock.js";
import { createLogger } from "../../src/log.js";
import type { PostMetricDataBody } from "../../src/metrics.js";
import { readMetricsConfig } from "../../src/metrics.js";
import {
  METRICS_ANSWER_MARGIN_MS,
  METRICS_TIMEOUT_MS,
  type MetricsReport,
  type MetricsSink,
  monitoringEndpoint,
  outcomeCounts,
  reportMetrics,
} from "../../src/metrics-post.js";

const OWN = "ocid1.compartment.oc1..own";
const CONFIGURED = "ocid1.compartment.oc1..configured";

/** An in-memory sink: records posts; `hang` never answers (until aborted). */
function fakeSink(options: { hang?: boolean; fail?: string; own?: string | undefined } = {}) {
  const posts: PostMetricDataBody[] = [];
  const signals: AbortSignal[] = [];
  const sink: MetricsSink = {
    region: "eu-frankfurt-1",
    ownCompartmentId: "own" in options ? options.own : OWN,
    async post(body, signal) {
      signals.push(signal);
      if (options.fail) throw new Error(options.fail);
      if (options.hang) await new Promise(() => {});
      posts.push(body);
    },
  };
  return { sink, posts, signals };
}

function report(sink: MetricsSink, lines: string[], overrides: Partial<MetricsReport> = {}): MetricsReport {
  return {
    config: readMetricsConfig({}),
    env: {},
    fnName: "start-compute",
    action: "START",
    schedule: "nightly",
    answer: {
      action: "START",
      ok: true,
      message: "",
      summary: { requested: 2, changed: 2, unchanged: 0, skipped: 0, in_progress: 0, failed: 0, planned: 0 },
    },
    clock: systemClock,
    hardDeadlineAt: Date.now() + 30_000,
    logger: createLogger({ sink: (_s, line) => lines.push(line) }),
    getSink: async () => sink,
    ...overrides,
  };
}

describe("monitoringEndpoint", () => {
  it("prefers OCI_ENDPOINT_TEMPLATE, then OCI_ENDPOINT, then the region's telemetry-ingestion host", () => {
    const env = { OCI_ENDPOINT_TEMPLATE: "http://127.0.0.1:9/{region}/", OCI_ENDPOINT: "http://127.0.0.1:8" };
    expect(monitoringEndpoint(env, "us-phoenix-1", "oraclecloud.com")).toBe(
      "http://127.0.0.1:9/us-phoenix-1",
    );
    expect(monitoringEndpoint({ OCI_ENDPOINT: "http://127.0.0.1:8/" }, "x", "y")).toBe("http://127.0.0.1:8");
    expect(monitoringEndpoint({}, "us-ashburn-1", "oraclecloud.com")).toBe(
      "https://telemetry-ingestion.us-ashburn-1.oraclecloud.com",
    );
  });

  it.each([
    [{ OCI_ENDPOINT_TEMPLATE: "http://127.0.0.1:9" }, /OCI_ENDPOINT_TEMPLATE must contain \{region\}/],
    [{ OCI_ENDPOINT: "not a url" }, /OCI_ENDPOINT is not a URL/],
    [{ OCI_ENDPOINT: "ftp://127.0.0.1" }, /OCI_ENDPOINT must be an http\(s\) URL/],
    [{}, /no Monitoring endpoint/],
  ])("refuses %o naming the key", (env, pattern) => {
    expect(() => monitoringEndpoint(env, "", undefined)).toThrow(pattern);
  });
});

describe("outcomeCounts", () => {
  it("takes the summary's counts, and counts an error answer as one failure", () => {
    expect(
      outcomeCounts({
        action: "START",
        ok: false,
        message: "",
        summary: {
          requested: 3,
          changed: 1,
          unchanged: 0,
          skipped: 0,
          in_progress: 1,
          failed: 1,
          planned: 0,
        },
      }),
    ).toEqual({ changed: 1, unchanged: 0, skipped: 0, in_progress: 1, failed: 1, planned: 0 });
    expect(outcomeCounts({ action: "STOP", ok: false, message: "" })).toEqual({ failed: 1 });
    const fatal = {
      requested: 0,
      changed: 0,
      unchanged: 0,
      skipped: 0,
      in_progress: 0,
      failed: 0,
      planned: 0,
    };
    expect(outcomeCounts({ action: "STOP", ok: false, message: "", summary: fatal }).failed).toBe(1);
  });
});

describe("reportMetrics", () => {
  beforeEach(() => vi.useFakeTimers({ now: Date.parse("2026-12-02T07:00:00Z") }));
  afterEach(() => vi.useRealTimers());

  it("posts the outcomes and invocations with the dimensions, to the configured compartment first", async () => {
    const { sink, posts } = fakeSink();
    const lines: string[] = [];
    await reportMetrics(report(sink, lines));
    await reportMetrics(
      report(sink, lines, { config: readMetricsConfig({ METRICS_COMPARTMENT_ID: CONFIGURED }) }),
    );
    expect(lines).toEqual([]);
    expect(posts).toHaveLength(2);
    const invocations = posts[0]?.metricData.find((d) => d.name === "invocations");
    expect(invocations).toMatchObject({
      namespace: "compute_power",
      compartmentId: OWN,
      dimensions: {
        function: "start-compute",
        action: "START",
        region: "eu-frankfurt-1",
        schedule: "nightly",
      },
      datapoints: [{ timestamp: "2026-12-02T07:00:00.000Z", value: 1, count: 1 }],
    });
    expect(posts[0]?.metricData.find((d) => d.name === "changed")?.datapoints[0]?.value).toBe(2);
    expect(posts[1]?.metricData.every((d) => d.compartmentId === CONFIGURED)).toBe(true);
  });

  it("posts nothing with METRICS=off", async () => {
    const { sink, posts } = fakeSink();
    const lines: string[] = [];
    await reportMetrics(report(sink, lines, { config: readMetricsConfig({ METRICS: "off" }) }));
    expect(posts).toEqual([]);
    expect(lines).toEqual([]);
  });

  it("gives up at its timeout (aborting the request) with one log line", async () => {
    const { sink, signals } = fakeSink({ hang: true });
    const lines: string[] = [];
    const done = reportMetrics(report(sink, lines));
    await vi.advanceTimersByTimeAsync(METRICS_TIMEOUT_MS - 1);
    expect(lines).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(signals[0]?.aborted).toBe(true);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({
      level: "warn",
      msg: "metrics not posted",
      timeout_ms: METRICS_TIMEOUT_MS,
      reason: `no answer within ${METRICS_TIMEOUT_MS} ms`,
    });
  });

  it("ends a margin before the hard deadline when that is nearer than its own timeout", async () => {
    const { sink } = fakeSink({ hang: true });
    const lines: string[] = [];
    const hardDeadlineAt = Date.now() + METRICS_ANSWER_MARGIN_MS + 300;
    const done = reportMetrics(report(sink, lines, { hardDeadlineAt }));
    await vi.advanceTimersByTimeAsync(300);
    await done;
    expect(Date.now()).toBe(hardDeadlineAt - METRICS_ANSWER_MARGIN_MS);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ timeout_ms: 300 });
  });

  it("does not start with no time left, and says so once", async () => {
    const { sink, posts, signals } = fakeSink();
    const lines: string[] = [];
    await reportMetrics(report(sink, lines, { hardDeadlineAt: Date.now() + METRICS_ANSWER_MARGIN_MS }));
    expect(signals).toEqual([]);
    expect(posts).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("no time left before the deadline");
  });

  it.each([
    ["a failed post", fakeSink({ fail: "HTTP 500 InternalError" }), /HTTP 500 InternalError/],
    ["no compartment known", fakeSink({ own: undefined }), /set METRICS_COMPARTMENT_ID/],
  ])("%s: one log line, never a throw", async (_name, { sink }, pattern) => {
    const lines: string[] = [];
    await expect(reportMetrics(report(sink, lines))).resolves.toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "{}").reason).toMatch(pattern);
  });

  it("a sink that cannot be set up: one log line, secrets scrubbed", async () => {
    const lines: string[] = [];
    const secret = `-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----`;
    await reportMetrics(
      report(fakeSink().sink, lines, {
        getSink: async () => {
          throw new Error(`bad key ${secret}`);
        },
      }),
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain("PRIVATE KEY-----\nabc");
    expect(lines[0]).toContain("[pem]");
  });
});

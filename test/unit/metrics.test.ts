import { describe, expect, it } from "vitest";
import { PowerError } from "../../src/errors.js";
import { buildMetricData, DEFAULT_METRICS_NAMESPACE, readMetricsConfig } from "../../src/metrics.js";

const COMP = "ocid1.compartment.oc1..aaaaaaaaexample";

describe("readMetricsConfig", () => {
  it("defaults: on, the compute_power namespace, the function's compartment", () => {
    expect(readMetricsConfig({})).toEqual({
      enabled: true,
      namespace: DEFAULT_METRICS_NAMESPACE,
      compartmentId: undefined,
    });
    expect(readMetricsConfig({ METRICS: " OFF ", METRICS_COMPARTMENT_ID: COMP })).toEqual({
      enabled: false,
      namespace: "compute_power",
      compartmentId: COMP,
    });
  });

  it.each([
    [{ METRICS: "maybe" }, /METRICS must be on or off/],
    [{ METRICS_NAMESPACE: "oci_compute_power" }, /METRICS_NAMESPACE .*reserved "oci_"/],
    [{ METRICS_NAMESPACE: "9lives" }, /METRICS_NAMESPACE must start with a letter/],
    [{ METRICS_NAMESPACE: "a-b" }, /METRICS_NAMESPACE/],
    [
      { METRICS_COMPARTMENT_ID: "ocid1.instance.oc1.iad.aaaa" },
      /METRICS_COMPARTMENT_ID must be a compartment or tenancy OCID/,
    ],
  ])("refuses %o naming the key", (source, pattern) => {
    let thrown: unknown;
    try {
      readMetricsConfig(source);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PowerError);
    expect((thrown as PowerError).code).toBe("InvalidConfiguration");
    expect((thrown as PowerError).message).toMatch(pattern);
  });
});

describe("buildMetricData", () => {
  it("posts every outcome (zeros included) and one invocation, with the dimensions given", () => {
    const config = readMetricsConfig({});
    const body = buildMetricData(
      config,
      COMP,
      { function: "start-compute", action: "START", region: "us-ashburn-1", schedule: "office-hours" },
      { changed: 3, failed: 1 },
      Date.parse("2026-12-01T07:00:00Z"),
    );
    expect(body.batchAtomicity).toBe("NON_ATOMIC");
    expect(body.metricData.map((m) => [m.name, m.datapoints[0]?.value])).toEqual([
      ["changed", 3],
      ["unchanged", 0],
      ["skipped", 0],
      ["in_progress", 0],
      ["failed", 1],
      ["planned", 0],
      ["invocations", 1],
    ]);
    for (const m of body.metricData) {
      expect(m).toMatchObject({
        namespace: "compute_power",
        compartmentId: COMP,
        dimensions: {
          function: "start-compute",
          action: "START",
          region: "us-ashburn-1",
          schedule: "office-hours",
        },
        datapoints: [{ timestamp: "2026-12-01T07:00:00.000Z", count: 1 }],
      });
    }
  });

  it("leaves out an empty dimension (OCI refuses empty values) and trims long ones to 512", () => {
    const body = buildMetricData(
      readMetricsConfig({}),
      COMP,
      { function: "stop-compute", action: "SOFTSTOP", region: "x".repeat(600), schedule: " " },
      {},
      0,
    );
    expect(Object.keys(body.metricData[0]?.dimensions ?? {})).toEqual(["function", "action", "region"]);
    expect(body.metricData[0]?.dimensions.region).toHaveLength(512);
  });
});

/**
 * What one invocation reports to OCI Monitoring (PostMetricData): one datapoint per outcome, named as
 * the outcome, with its count, and `invocations` = 1 (the heartbeat the dead-man's switch alarm
 * watches). Pure: the caller posts it. The namespace defaults to `compute_power`: OCI reserves the
 * `oci_` prefix for its own services, so a custom namespace may not start with it.
 */
import { PowerError } from "./errors.js";
import { checkOcid } from "./ocid.js";

export const DEFAULT_METRICS_NAMESPACE = "compute_power";
/** Every outcome a result can have; each is posted, zeros included, so alarms see a steady series. */
export const OUTCOME_METRICS = [
  "changed",
  "unchanged",
  "skipped",
  "in_progress",
  "failed",
  "planned",
] as const;

export interface MetricsConfig {
  enabled: boolean;
  namespace: string;
  /** undefined: the function's own compartment (from its principal). */
  compartmentId: string | undefined;
}

export interface MetricDimensions {
  function: string;
  action: string;
  region: string;
  schedule?: string;
}

export interface MetricDatum {
  namespace: string;
  compartmentId: string;
  name: string;
  dimensions: Record<string, string>;
  datapoints: Array<{ timestamp: string; value: number; count: number }>;
}

export interface PostMetricDataBody {
  metricData: MetricDatum[];
  batchAtomicity: "NON_ATOMIC";
}

function bad(key: string, message: string): PowerError {
  return new PowerError("InvalidConfiguration", `configuration ${key} ${message}`);
}

/** METRICS (on|off), METRICS_NAMESPACE, METRICS_COMPARTMENT_ID; a bad value names its key. */
export function readMetricsConfig(source: Record<string, string | undefined>): MetricsConfig {
  const switchValue = (source.METRICS ?? "on").trim().toLowerCase() || "on";
  if (switchValue !== "on" && switchValue !== "off") {
    throw bad("METRICS", `must be on or off, got ${JSON.stringify(switchValue.slice(0, 20))}`);
  }
  const namespace = source.METRICS_NAMESPACE?.trim() || DEFAULT_METRICS_NAMESPACE;
  if (!/^[A-Za-z][A-Za-z0-9_]{0,254}$/.test(namespace) || namespace.toLowerCase().startsWith("oci_")) {
    throw bad(
      "METRICS_NAMESPACE",
      `must start with a letter, hold only letters, digits and underscores, and not start with the reserved "oci_"; got ${JSON.stringify(namespace.slice(0, 40))}`,
    );
  }
  const rawCompartment = source.METRICS_COMPARTMENT_ID?.trim();
  let compartmentId: string | undefined;
  if (rawCompartment) {
    const check = checkOcid(rawCompartment);
    if (!check.ok || (check.resourceType !== "compartment" && check.resourceType !== "tenancy")) {
      throw bad(
        "METRICS_COMPARTMENT_ID",
        `must be a compartment or tenancy OCID, got ${JSON.stringify(rawCompartment.slice(0, 60))}`,
      );
    }
    compartmentId = rawCompartment;
  }
  return { enabled: switchValue === "on", namespace, compartmentId };
}

/** Dimension values are 1..512 characters in OCI; anything empty is left out rather than refused. */
function dimensionsOf(d: MetricDimensions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(d)) {
    if (typeof value === "string" && value.trim() !== "") out[key] = value.slice(0, 512);
  }
  return out;
}

export function buildMetricData(
  config: MetricsConfig,
  compartmentId: string,
  dimensions: MetricDimensions,
  counts: Readonly<Partial<Record<(typeof OUTCOME_METRICS)[number], number>>>,
  now: number,
): PostMetricDataBody {
  const timestamp = new Date(now).toISOString();
  const dims = dimensionsOf(dimensions);
  const datum = (name: string, value: number): MetricDatum => ({
    namespace: config.namespace,
    compartmentId,
    name,
    dimensions: dims,
    datapoints: [{ timestamp, value, count: 1 }],
  });
  return {
    metricData: [
      ...OUTCOME_METRICS.map((outcome) => datum(outcome, counts[outcome] ?? 0)),
      datum("invocations", 1),
    ],
    batchAtomicity: "NON_ATOMIC",
  };
}

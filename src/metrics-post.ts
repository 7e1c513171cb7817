/**
 * Posts one invocation's metrics (built by metrics.ts) to OCI Monitoring's telemetry-ingestion
 * endpoint, signed with the same auth provider as Compute (auth.ts shares it per process).
 *
 * Why not oci-monitoring's MonitoringClient: measured on the bundles (esbuild, minified), its client
 * with every one of its 108 models and opossum (its circuit breaker) adds 74 KB to a 217 KB function
 * for one POST, and keeping it small would take a second slimming rule set in scripts/build.ts.
 * PostMetricData is one JSON POST, so it is signed here by oci-common's DefaultRequestSigner, the
 * signer the Compute transport (oci-compute.ts RecordingHttpClient) uses, and sent over node:http(s).
 *
 * Posting is best effort by contract: it never throws, never outlives its time limit, and a failure
 * is exactly one log line (no secrets: messages are scrubbed).
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { DefaultRequestSigner } from "oci-common";
import { sharedAuthProvider } from "./auth.js";
import type { Clock } from "./clock.js";
import type { Env } from "./config.js";
import { configuredEndpoint } from "./endpoints.js";
import { PowerError } from "./errors.js";
import type { Logger } from "./log.js";
import { scrubSecrets } from "./log.js";
import {
  buildMetricData,
  type MetricDimensions,
  type MetricsConfig,
  OUTCOME_METRICS,
  type PostMetricDataBody,
} from "./metrics.js";
import type { PowerResponse } from "./response.js";

/** Longest a post may take; less when the invocation's hard deadline is nearer. */
export const METRICS_TIMEOUT_MS = 2000;
/** Kept free before the hard deadline so the answer still reaches the Fn agent after a post. */
export const METRICS_ANSWER_MARGIN_MS = 250;
/** A post with less time than this is not started (it could not finish). */
export const METRICS_MIN_MS = 50;

/** Where an invocation's metrics go: the OCI adapter, or an in-memory fake in unit tests. */
export interface MetricsSink {
  /** The function's region name (the `region` dimension). */
  readonly region: string;
  /** The function's own compartment, from its principal (resource principal claim res_compartment). */
  readonly ownCompartmentId: string | undefined;
  post(body: PostMetricDataBody, signal: AbortSignal): Promise<void>;
}
export type MetricsFactory = (env: Env) => Promise<MetricsSink>;

/**
 * The telemetry-ingestion base URL: the configured endpoint (OCI_ENDPOINT_TEMPLATE with {region}
 * replaced, else OCI_ENDPOINT; src/endpoints.ts), else https://telemetry-ingestion.<region>.<realm domain>.
 */
export function monitoringEndpoint(env: Env, region: string, realmDomain: string | undefined): string {
  const configured = configuredEndpoint(env, [], region);
  if (configured) return configured.url;
  if (!region || !realmDomain) {
    throw new PowerError(
      "InvalidConfiguration",
      "no Monitoring endpoint: the credentials carry no region; set OCI_ENDPOINT or a region",
    );
  }
  return `https://telemetry-ingestion.${region}.${realmDomain}`;
}

/** The OCI adapter: a signed PostMetricData to the telemetry-ingestion endpoint. */
export async function createOciMetrics(env: Env): Promise<MetricsSink> {
  const { provider, region } = await sharedAuthProvider(env);
  const regionId = region?.regionId ?? "";
  const base = monitoringEndpoint(env, regionId, region?.realm?.secondLevelDomain);
  let ownCompartmentId: string | undefined;
  const claims = provider as { getStringClaim?: (key: string) => Promise<string | null> };
  if (typeof claims.getStringClaim === "function") {
    ownCompartmentId = (await claims.getStringClaim("res_compartment")) ?? undefined;
  }
  const signer = new DefaultRequestSigner(provider);
  return {
    region: regionId,
    ownCompartmentId,
    async post(body, signal) {
      const uri = `${base}/20180401/metrics`;
      const text = JSON.stringify(body);
      const headers = new Headers({ "content-type": "application/json" });
      await signer.signHttpRequest({ method: "POST", headers, uri, body: text });
      const plain: Record<string, string> = {};
      headers.forEach((value, name) => {
        plain[name] = value;
      });
      await send(uri, plain, text, signal);
    },
  };
}

/** One POST; a non-2xx answer becomes an error naming the status, OCI's code and opc-request-id. */
async function send(uri: string, headers: Record<string, string>, body: string, signal: AbortSignal) {
  const url = new URL(uri);
  const request =
    url.protocol === "https:"
      ? ((await import("node:https")).request as unknown as typeof httpRequest)
      : httpRequest;
  const res = await new Promise<{ status: number; text: string; res: IncomingMessage }>((resolve, reject) => {
    const req = request(url, { method: "POST", headers, signal }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk.length + text.length <= 4096 ? chunk : "";
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text, res }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
  if (res.status >= 200 && res.status < 300) return;
  let code = "";
  try {
    const parsed = JSON.parse(res.text) as { code?: unknown };
    if (typeof parsed.code === "string") code = ` ${parsed.code}`;
  } catch {
    // not JSON
  }
  const opc = res.res.headers["opc-request-id"];
  throw new Error(`HTTP ${res.status}${code}${typeof opc === "string" ? ` (opc-request-id ${opc})` : ""}`);
}

/** Each outcome's count: the summary's, or one failed request when the answer is an error. */
export function outcomeCounts(
  body: PowerResponse,
): Partial<Record<(typeof OUTCOME_METRICS)[number], number>> {
  const counts: Partial<Record<(typeof OUTCOME_METRICS)[number], number>> = {};
  const summary = body.summary as Record<string, unknown> | undefined;
  for (const outcome of OUTCOME_METRICS) {
    const n = summary?.[outcome];
    if (typeof n === "number") counts[outcome] = n;
  }
  if (!body.ok && (counts.failed ?? 0) === 0 && (summary === undefined || summary.requested === 0)) {
    counts.failed = 1;
  }
  return counts;
}

export interface MetricsReport {
  config: MetricsConfig;
  env: Env;
  fnName: string;
  action: string;
  schedule: string | undefined;
  answer: PowerResponse;
  clock: Clock;
  /** Epoch ms: the invocation's hard deadline (Fn-Deadline); the post ends a margin before it. */
  hardDeadlineAt: number;
  logger: Logger;
  getSink: (env: Env) => Promise<MetricsSink>;
}

/** Posts the invocation's metrics within its time limit; never throws; a failure is one log line. */
export async function reportMetrics(r: MetricsReport): Promise<void> {
  if (!r.config.enabled) return;
  const limitMs = Math.min(METRICS_TIMEOUT_MS, r.hardDeadlineAt - METRICS_ANSWER_MARGIN_MS - r.clock.now());
  const fields = { namespace: r.config.namespace, timeout_ms: Math.max(0, Math.floor(limitMs)) };
  if (limitMs < METRICS_MIN_MS) {
    r.logger.warn("metrics not posted", { ...fields, reason: "no time left before the deadline" });
    return;
  }
  const controller = new AbortController();
  let cancel: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    cancel = r.clock.after(limitMs, () => {
      controller.abort();
      reject(new Error(`no answer within ${Math.floor(limitMs)} ms`));
    });
  });
  try {
    await Promise.race([postOnce(r, controller.signal), timeout]);
  } catch (error) {
    const message =
      error instanceof Error ? error.message : String((error as { message?: unknown })?.message ?? error);
    r.logger.warn("metrics not posted", { ...fields, reason: scrubSecrets(message) });
  } finally {
    cancel?.();
  }
}

async function postOnce(r: MetricsReport, signal: AbortSignal): Promise<void> {
  const sink = await r.getSink(r.env);
  const compartmentId = r.config.compartmentId ?? sink.ownCompartmentId;
  if (!compartmentId) {
    throw new Error(
      "no compartment: set METRICS_COMPARTMENT_ID (only a resource principal names the function's own compartment)",
    );
  }
  const dimensions: MetricDimensions = { function: r.fnName, action: r.action, region: sink.region };
  if (r.schedule !== undefined) dimensions.schedule = r.schedule;
  const body = buildMetricData(r.config, compartmentId, dimensions, outcomeCounts(r.answer), r.clock.now());
  await sink.post(body, signal);
}

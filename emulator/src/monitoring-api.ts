/**
 * Monitoring ingestion (20180401): `POST /metrics` (PostMetricData), which OCI serves on its own
 * telemetry-ingestion endpoint. Validates the body the way OCI documents it (namespace, name,
 * dimensions, at most 50 streams, timestamps within 2 h before and 10 min after now), keeps accepted
 * datapoints for the admin API, and evaluates alarm queries against them (alarm-query.ts).
 * Signed and authorised like Compute: every compartment named must be one the caller may use.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type AlarmQueryError, evaluateAlarm, parseAlarmQuery, type StoredPoint } from "./alarm-query.js";
import { allows, type Principal } from "./auth.js";
import type { CallRecord } from "./calls.js";
import { invalidParameter, notFound, OciHttpError } from "./errors.js";
import type { FaultInjector } from "./faults.js";
import { parseJsonObject, readBody, send, sleep } from "./http-util.js";
import { isOcid } from "./ocid.js";
import { parseServiceFault, type ServiceFault, throwServiceFault } from "./service-faults.js";

type CallDraft = Omit<CallRecord, "seq" | "durationMs" | "status"> & { status?: number };

const MAX_STREAMS = 50;
const MAX_DIMENSIONS = 20;
const MAX_STORED = 200_000;
const PAST_MS = 2 * 3_600_000;
const FUTURE_MS = 10 * 60_000;
const NAMESPACE_RE = /^[A-Za-z][A-Za-z0-9_]*$/;
const NAME_RE = /^[A-Za-z][A-Za-z0-9._$-]*$/;

interface Failed {
  metricData: unknown;
  message: string;
}

function datumProblem(d: Record<string, unknown>, now: number): string | undefined {
  const ns = d.namespace;
  if (typeof ns !== "string" || !NAMESPACE_RE.test(ns) || ns.length > 255) {
    return "namespace must start with a letter and hold only letters, digits and underscores";
  }
  if (/^(oci_|oracle_)/i.test(ns)) return `namespace ${ns} uses a reserved prefix (oci_, oracle_)`;
  if (typeof d.name !== "string" || !NAME_RE.test(d.name) || d.name.length > 255) {
    return "name must start with a letter and hold only letters, digits, '.', '_', '-' and '$'";
  }
  const dims = d.dimensions;
  if (typeof dims !== "object" || dims === null || Array.isArray(dims)) return "dimensions is required";
  const entries = Object.entries(dims);
  if (entries.length < 1 || entries.length > MAX_DIMENSIONS)
    return `dimensions must have 1 to ${MAX_DIMENSIONS} keys`;
  for (const [k, v] of entries) {
    if (!/^[!-~]{1,256}$/.test(k))
      return `dimension key ${JSON.stringify(k.slice(0, 40))} is not printable ASCII of 1-256`;
    if (typeof v !== "string" || v.length < 1 || v.length > 512)
      return `dimension ${k} must be a string of 1-512`;
  }
  if (!Array.isArray(d.datapoints) || d.datapoints.length === 0) return "datapoints must be a non-empty list";
  for (const p of d.datapoints as unknown[]) {
    const dp = p as Record<string, unknown>;
    const ts = typeof dp?.timestamp === "string" ? Date.parse(dp.timestamp) : Number.NaN;
    if (Number.isNaN(ts)) return "each datapoint needs an RFC 3339 timestamp";
    if (ts < now - PAST_MS || ts > now + FUTURE_MS) {
      return `timestamp ${String(dp.timestamp)} is not within 2 hours before and 10 minutes after now`;
    }
    if (typeof dp.value !== "number" || !Number.isFinite(dp.value))
      return "each datapoint needs a numeric value";
    if (dp.count !== undefined && (!Number.isInteger(dp.count) || (dp.count as number) < 1)) {
      return "datapoint count must be a whole number >= 1";
    }
  }
  return undefined;
}

export class MonitoringService {
  #points: StoredPoint[] = [];
  #fault: ServiceFault | undefined;

  points(filter: { namespace?: string | null; name?: string | null } = {}): StoredPoint[] {
    return this.#points.filter(
      (p) =>
        (!filter.namespace || p.namespace === filter.namespace) && (!filter.name || p.name === filter.name),
    );
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    headers: Record<string, string>,
    call: CallDraft,
    /** The faults of the region the request went to (rate limit per principal per region). */
    faults: FaultInjector,
    authenticate: (body: Buffer) => Promise<Principal>,
  ): Promise<void> {
    if (path !== "/20180401/metrics" || method !== "POST") {
      throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No route for ${method} ${path}.`);
    }
    call.operation = "PostMetricData";
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const body = await readBody(req);
    const principal = await authenticate(body);
    faults.rateLimit(principal.id, Date.now());
    faults.randomError();
    throwServiceFault(this.#fault, "PostMetricData");
    const answer = this.#ingest(parseJsonObject(body, "postMetricDataDetails"), principal, Date.now());
    call.status = 200;
    send(res, 200, answer, headers);
  }

  #ingest(details: Record<string, unknown>, principal: Principal, now: number) {
    const data = details.metricData;
    if (!Array.isArray(data) || data.length === 0)
      throw invalidParameter("metricData must be a non-empty list.");
    if (data.length > MAX_STREAMS)
      throw invalidParameter(`metricData has ${data.length} streams; at most ${MAX_STREAMS}.`);
    const atomicity = details.batchAtomicity ?? "NON_ATOMIC";
    if (atomicity !== "ATOMIC" && atomicity !== "NON_ATOMIC") {
      throw invalidParameter("batchAtomicity must be ATOMIC or NON_ATOMIC.");
    }
    for (const raw of data as unknown[]) {
      const c = (raw as Record<string, unknown> | null)?.compartmentId;
      if (typeof c !== "string" || !isOcid(c))
        throw invalidParameter("Each metricData needs a compartmentId OCID.");
      if (!allows(principal, c)) throw notFound(`compartment ${c}`);
    }
    const failed: Failed[] = [];
    const accepted: StoredPoint[] = [];
    for (const raw of data as Record<string, unknown>[]) {
      const problem = datumProblem(raw, now);
      if (problem) {
        failed.push({ metricData: raw, message: problem });
        continue;
      }
      for (const p of raw.datapoints as Array<{ timestamp: string; value: number; count?: number }>) {
        accepted.push({
          namespace: raw.namespace as string,
          compartmentId: raw.compartmentId as string,
          name: raw.name as string,
          dimensions: { ...(raw.dimensions as Record<string, string>) },
          timestamp: Date.parse(p.timestamp),
          value: p.value,
          count: p.count ?? 1,
        });
      }
    }
    if (atomicity === "ATOMIC" && failed.length > 0) {
      throw invalidParameter(`ATOMIC batch refused: ${failed[0]?.message ?? "invalid metric"}.`);
    }
    this.#points.push(...accepted);
    if (this.#points.length > MAX_STORED) this.#points = this.#points.slice(-MAX_STORED);
    return { failedMetricsCount: failed.length, failedMetrics: failed };
  }

  #evaluate(b: Record<string, unknown>) {
    if (typeof b.query !== "string") throw invalidParameter("query is required: the alarm's MQL query.");
    if (typeof b.namespace !== "string") throw invalidParameter("namespace is required.");
    if (typeof b.compartmentId !== "string") throw invalidParameter("compartmentId is required.");
    const at = b.at === undefined ? Date.now() : typeof b.at === "string" ? Date.parse(b.at) : Number.NaN;
    if (Number.isNaN(at)) throw invalidParameter("at must be an RFC 3339 time.");
    let query: ReturnType<typeof parseAlarmQuery>;
    try {
      query = parseAlarmQuery(b.query);
    } catch (e) {
      throw invalidParameter(`query: ${(e as AlarmQueryError).message}.`);
    }
    const points = this.#points.filter(
      (p) => p.namespace === b.namespace && p.compartmentId === b.compartmentId,
    );
    return { at: new Date(at).toISOString(), ...evaluateAlarm(query, points, at) };
  }

  /** Admin routes under /_emulator/monitoring; undefined: not ours. */
  admin(method: string, path: string, query: URLSearchParams, json: () => Record<string, unknown>) {
    switch (`${method} ${path.replace(/\/+$/, "")}`) {
      case "GET /_emulator/monitoring/datapoints":
        return { datapoints: this.points({ namespace: query.get("namespace"), name: query.get("name") }) };
      case "DELETE /_emulator/monitoring/datapoints":
        this.#points = [];
        return { datapoints: [] };
      case "POST /_emulator/monitoring/evaluate":
        return this.#evaluate(json());
      case "PUT /_emulator/monitoring/faults":
        this.#fault = parseServiceFault(json(), "monitoring");
        return this.#fault ?? {};
      default:
        return undefined;
    }
  }
}

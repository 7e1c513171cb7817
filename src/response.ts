/**
 * The response body (always JSON) and the HTTP gateway status that goes with it:
 * 200 all done, 202 some in progress, 400 invalid request, 403 refused by the guardrail,
 * 502 something failed.
 */

import type { InstanceResult, Outcome } from "./batch.js";
import type { PowerAction } from "./compute.js";
import type { ErrorBody, PowerError } from "./errors.js";

export interface Summary {
  requested: number;
  changed: number;
  unchanged: number;
  /** Left alone on purpose (an override, or BILLED_WHEN_STOPPED=skip); ok stays true. */
  skipped: number;
  in_progress: number;
  failed: number;
  planned: number;
  /** stop-compute: results whose shape OCI keeps billing while stopped. */
  billed_while_stopped?: number;
}

export interface PowerResponse {
  action: PowerAction;
  dry_run?: boolean;
  ok: boolean;
  message: string;
  summary?: Summary;
  results?: InstanceResult[];
  error?: ErrorBody;
  /** Regions whose targets could not be selected (a compartment selection over several regions). */
  region_errors?: RegionErrorBody[];
  /** With "results": "failures": how many success entries were left out of results (summary counts them). */
  results_omitted?: number;
  /** A Connector Hub batch: each message's own answer, in order (trigger-run.ts). */
  messages?: MessageAnswer[];
  /** How the request arrived when it was not a direct one (an event rule or a Connector Hub batch). */
  trigger?: TriggerInfo;
}

export interface RegionErrorBody {
  region: string;
  error: ErrorBody;
}

/** One message of a batch: its place, its own id when it carries one, and its answer. */
export type MessageAnswer = { index: number; id?: string } & PowerResponse;

export type TriggerInfo =
  | { kind: "event"; rule: string; event_type: string }
  | { kind: "batch"; messages: number; failed_messages: number };

export interface Built {
  body: PowerResponse;
  gatewayStatus: number;
}

export function summarize(results: readonly InstanceResult[]): Summary {
  const summary: Summary = {
    requested: results.length,
    changed: 0,
    unchanged: 0,
    skipped: 0,
    in_progress: 0,
    failed: 0,
    planned: 0,
  };
  for (const r of results) summary[r.outcome]++;
  return summary;
}

const WORDS: Record<Outcome, string> = {
  changed: "changed",
  unchanged: "unchanged",
  skipped: "skipped",
  in_progress: "in progress",
  failed: "failed",
  planned: "planned",
};

export function batchResponse(action: PowerAction, dryRun: boolean, results: InstanceResult[]): Built {
  const summary = summarize(results);
  const parts = (Object.keys(WORDS) as Outcome[])
    .filter((o) => summary[o] > 0)
    .map((o) => `${summary[o]} ${WORDS[o]}`);
  const codes = [
    ...new Set(results.flatMap((r) => (r.outcome === "failed" && r.error ? [r.error.code] : []))),
  ];
  const failedNote = codes.length > 0 ? ` (${codes.join(", ")})` : "";
  const what = dryRun ? `${action} (dry run)` : action;
  const billed = action === "START" ? undefined : billedWhileStopped(results);
  if (billed) summary.billed_while_stopped = billed.count;
  const message =
    summary.requested === 0
      ? `${what}: no instance matched`
      : `${what}: ${summary.requested} requested: ${parts.join(", ")}${failedNote}${billed?.note ?? ""}`;
  const ok = summary.failed === 0;
  const gatewayStatus = !ok ? 502 : summary.in_progress > 0 ? 202 : 200;
  return { body: { action, dry_run: dryRun, ok, message, summary, results }, gatewayStatus };
}

/** The stop results whose shape keeps billing while stopped, counted and named for the message. */
function billedWhileStopped(results: readonly InstanceResult[]): { count: number; note: string } {
  const billed = results.filter((r) => r.billed_while_stopped === true);
  if (billed.length === 0) return { count: 0, note: "" };
  const names = billed.slice(0, 5).map((r) => (r.display_name ?? r.target_id).slice(0, 80));
  const more = billed.length > names.length ? ` and ${billed.length - names.length} more` : "";
  return {
    count: billed.length,
    note: `; ${billed.length} still billed while stopped (shape): ${names.join(", ")}${more}`,
  };
}

/** Regions that could not be selected make the answer not ok (502), named in the message. */
export function withRegionErrors(built: Built, errors: readonly RegionErrorBody[]): Built {
  if (errors.length === 0) return built;
  const names = errors.map((e) => `${e.region} (${e.error.code})`).join(", ");
  const body: PowerResponse = {
    ...built.body,
    ok: false,
    message: `${built.body.message}; could not select in ${errors.length} region${errors.length > 1 ? "s" : ""}: ${names}`,
    region_errors: [...errors],
  };
  return { body, gatewayStatus: 502 };
}

/**
 * "results": "failures" keeps only the entries that are not a success: failed ones, and in_progress
 * ones when the request waited (they did not finish in time). The summary still counts every target.
 */
export function viewOf(built: Built, view: "all" | "failures" | undefined, waited: boolean): Built {
  const all = built.body.results;
  if (view !== "failures" || !all) return built;
  const kept = all.filter((r) => r.outcome === "failed" || (waited && r.outcome === "in_progress"));
  return { ...built, body: { ...built.body, results: kept, results_omitted: all.length - kept.length } };
}

export function errorResponse(action: PowerAction, error: PowerError, dryRun?: boolean): Built {
  const status = error.code === "InvalidParameter" ? 400 : error.code === "Forbidden" ? 403 : 502;
  const body: PowerResponse = {
    action,
    ok: false,
    message: `${action}: ${error.code}: ${error.message}`,
    error: error.toJSON(),
  };
  if (dryRun !== undefined) body.dry_run = dryRun;
  return { body, gatewayStatus: status };
}

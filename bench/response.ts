/** Reads a power function's answer (issue 3's response body) just enough to judge a benchmark run. */
import type { FnResponse } from "../emulator/src/fn-agent.js";
import { BenchError } from "./errors.js";

export type Outcome = "changed" | "unchanged" | "skipped" | "in_progress" | "failed" | "planned";

export interface PowerAnswer {
  ok: boolean;
  message: string;
  summary: Record<Outcome | "requested", number>;
  results: Array<{ target_id: string; outcome: Outcome; error?: { code?: string; message?: string } }>;
}

const OUTCOMES: readonly Outcome[] = ["changed", "unchanged", "skipped", "in_progress", "failed", "planned"];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses the answer; throws a BenchError when it is not a well-formed power-function response. */
export function parseAnswer(res: FnResponse, what: string): PowerAnswer {
  if (res.status !== 200) {
    throw new BenchError(`${what}: the function answered HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new BenchError(`${what}: the function answered non-JSON: ${res.body.slice(0, 300)}`);
  }
  if (!isRecord(body) || typeof body.ok !== "boolean") {
    throw new BenchError(`${what}: the answer has no boolean "ok": ${res.body.slice(0, 300)}`);
  }
  if (isRecord(body.error) && !Array.isArray(body.results)) {
    throw new BenchError(`${what}: the function refused the request: ${JSON.stringify(body.error)}`);
  }
  if (!isRecord(body.summary) || !Array.isArray(body.results)) {
    throw new BenchError(`${what}: the answer lacks summary/results: ${res.body.slice(0, 300)}`);
  }
  const summary = {
    requested: 0,
    changed: 0,
    unchanged: 0,
    skipped: 0,
    in_progress: 0,
    failed: 0,
    planned: 0,
  };
  for (const key of ["requested", ...OUTCOMES] as const) {
    const v = body.summary[key];
    summary[key] = typeof v === "number" ? v : 0;
  }
  const results: PowerAnswer["results"] = [];
  for (const r of body.results) {
    if (!isRecord(r) || typeof r.target_id !== "string" || typeof r.outcome !== "string") {
      throw new BenchError(`${what}: a result lacks target_id/outcome`);
    }
    if (!OUTCOMES.includes(r.outcome as Outcome)) {
      throw new BenchError(`${what}: unknown outcome ${r.outcome}`);
    }
    const entry: PowerAnswer["results"][number] = {
      target_id: r.target_id,
      outcome: r.outcome as Outcome,
    };
    if (isRecord(r.error)) {
      entry.error = {
        ...(typeof r.error.code === "string" ? { code: r.error.code } : {}),
        ...(typeof r.error.message === "string" ? { message: r.error.message } : {}),
      };
    }
    results.push(entry);
  }
  return { ok: body.ok, message: typeof body.message === "string" ? body.message : "", summary, results };
}

/** Failure codes and how often they occurred, e.g. {TooManyRequests: 3}. */
export function failureCodes(answer: PowerAnswer): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of answer.results) {
    if (r.outcome !== "failed") continue;
    const code = r.error?.code ?? "unknown";
    out[code] = (out[code] ?? 0) + 1;
  }
  return out;
}

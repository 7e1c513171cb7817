/**
 * A fault aimed at one service (Notifications, Monitoring) while the others keep working: a test can
 * make a publish fail and still see the function's run succeed. The emulator-wide faults (rate limit,
 * error rate, latency) apply to these services too.
 */
import { invalidParameter, OciHttpError } from "./errors.js";

const STATUSES: Record<number, { code: string; message: string }> = {
  400: { code: "InvalidParameter", message: "Invalid parameter (injected fault)." },
  404: { code: "NotAuthorizedOrNotFound", message: "Authorization failed or requested resource not found." },
  429: { code: "TooManyRequests", message: "Too many requests for the tenant." },
  500: { code: "InternalError", message: "Internal error (injected fault)." },
  503: { code: "ServiceUnavailable", message: "Service unavailable (injected fault)." },
};

export interface ServiceFault {
  /** The status every request answers with while the fault is set. */
  status: number;
  /** How many requests fail before the fault clears itself; undefined: until cleared. */
  remaining?: number;
}

/** `{}` clears; `{"status": 500, "count"?: n}` sets. */
export function parseServiceFault(input: Record<string, unknown>, service: string): ServiceFault | undefined {
  if (input.status === undefined) return undefined;
  const status = input.status;
  if (typeof status !== "number" || STATUSES[status] === undefined) {
    throw invalidParameter(`${service} fault status must be one of ${Object.keys(STATUSES).join(", ")}.`);
  }
  if (input.count === undefined) return { status };
  const count = input.count;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1) {
    throw invalidParameter(`${service} fault count must be a whole number >= 1.`);
  }
  return { status, remaining: count };
}

export function throwServiceFault(fault: ServiceFault | undefined, operation: string): void {
  if (!fault) return;
  if (fault.remaining !== undefined) {
    if (fault.remaining <= 0) return;
    fault.remaining -= 1;
  }
  const s = STATUSES[fault.status] ?? { code: "InternalError", message: "Internal error." };
  const headers: Record<string, string> = fault.status === 429 ? { "retry-after": "1" } : {};
  throw new OciHttpError(fault.status, s.code, `${operation}: ${s.message}`, headers);
}

/**
 * The closed set of error codes a response can carry, and the error classes behind them.
 * Every failure the functions report is one of these codes; the README documents each.
 */
export type ErrorCode =
  | "InvalidParameter"
  | "InvalidConfiguration"
  | "NotAuthorizedOrNotFound"
  | "IncorrectState"
  | "OutOfHostCapacity"
  | "LimitExceeded"
  | "TooManyRequests"
  | "ServiceError"
  | "NetworkError"
  | "InstanceTerminated"
  | "UnexpectedState"
  | "Forbidden"
  | "AuthenticationFailed"
  | "DeadlineExceeded"
  | "InternalError"
  | "InvalidOverride"
  | "NoRecordedSize"
  | "WorkRequestFailed";

/** HTTP-like status used when no OCI answer supplied one. */
export function defaultStatus(code: ErrorCode): number {
  switch (code) {
    case "InvalidParameter":
      return 400;
    case "InvalidConfiguration":
      return 500;
    case "NotAuthorizedOrNotFound":
      return 404;
    case "IncorrectState":
      return 409;
    case "OutOfHostCapacity":
      return 500;
    case "LimitExceeded":
      return 400;
    case "TooManyRequests":
      return 429;
    case "ServiceError":
      return 500;
    case "NetworkError":
      return 0;
    case "InstanceTerminated":
      return 409;
    case "UnexpectedState":
      return 409;
    case "Forbidden":
      return 403;
    case "AuthenticationFailed":
      return 401;
    case "DeadlineExceeded":
      return 504;
    case "InternalError":
      return 500;
    case "InvalidOverride":
      return 400;
    case "NoRecordedSize":
      return 409;
    case "WorkRequestFailed":
      return 500;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

/** The error object as it appears in a response (snake_case, secret-free). */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  status: number;
  opc_request_id?: string;
}

export interface PowerErrorOptions {
  status?: number;
  opcRequestId?: string | undefined;
  cause?: unknown;
}

/** Base class: an error that knows its code and status and serializes itself. */
export class PowerError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly opcRequestId: string | undefined;

  constructor(code: ErrorCode, message: string, options: PowerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PowerError";
    this.code = code;
    this.status = options.status ?? defaultStatus(code);
    this.opcRequestId = options.opcRequestId;
  }

  toJSON(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message, status: this.status };
    if (this.opcRequestId) body.opc_request_id = this.opcRequestId;
    return body;
  }
}

/** A request body that does not follow the contract. Never reaches OCI. */
export class InvalidParameterError extends PowerError {
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super("InvalidParameter", message);
    this.name = "InvalidParameterError";
    this.field = field;
  }
}

export interface ComputeErrorOptions extends PowerErrorOptions {
  /** Worth retrying (same retry token for an action): 429, 5xx, 409 IncorrectState, network. */
  transient: boolean;
  /** From a 429's retry-after header when the server sent one. */
  retryAfterMs?: number | undefined;
  /** OCI's own service code (e.g. "InternalError"), kept for logs. */
  serviceCode?: string | undefined;
  /** For network errors: the request may have reached OCI (answer lost). */
  outcomeUnknown?: boolean;
}

/** An error from the Compute port (OCI adapter or the in-memory fake). */
export class ComputeError extends PowerError {
  readonly transient: boolean;
  readonly retryAfterMs: number | undefined;
  readonly serviceCode: string | undefined;
  readonly outcomeUnknown: boolean;

  constructor(code: ErrorCode, message: string, options: ComputeErrorOptions) {
    super(code, message, options);
    this.name = "ComputeError";
    this.transient = options.transient;
    this.retryAfterMs = options.retryAfterMs;
    this.serviceCode = options.serviceCode;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}

/** A short description of anything thrown, without stack traces or object dumps. */
export function describeThrown(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    const parts = [o.code, o.message].filter((p) => typeof p === "string" || typeof p === "number");
    if (parts.length > 0) return parts.join(": ");
  }
  return String(value);
}

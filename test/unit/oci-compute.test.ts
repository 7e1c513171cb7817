import { describe, expect, it } from "vitest";
import { mapFailure, mapNetworkError, parseRetryAfter } from "../../src/oci-compute.js";

const base = { opcRequestId: "req-1", retryAfterMs: undefined, message: "m" };

describe("mapFailure: OCI answers → closed error codes with retry semantics", () => {
  it.each<[number, string | undefined, string, string, boolean]>([
    [429, "TooManyRequests", "slow down", "TooManyRequests", true],
    [401, "NotAuthenticated", "bad sig", "AuthenticationFailed", false],
    [404, "NotAuthorizedOrNotFound", "nope", "NotAuthorizedOrNotFound", false],
    [409, "IncorrectState", "busy", "IncorrectState", true],
    [409, "Conflict", "conflict", "ServiceError", false],
    [400, "LimitExceeded", "limit", "LimitExceeded", false],
    [400, "QuotaExceeded", "quota", "LimitExceeded", false],
    [400, "InvalidParameter", "bad", "ServiceError", false],
    [500, "InternalError", "Out of host capacity.", "OutOfHostCapacity", false],
    [500, "InternalError", "oops", "ServiceError", true],
    [503, "ServiceUnavailable", "later", "ServiceError", true],
    [502, undefined, "Bad Gateway", "ServiceError", true],
  ])("%i %s %j → %s (transient %s)", (status, serviceCode, message, code, transient) => {
    const e = mapFailure({ ...base, status, serviceCode, message });
    expect(e.code).toBe(code);
    expect(e.transient).toBe(transient);
    expect(e.status).toBe(status);
    expect(e.toJSON()).toMatchObject({ code, status, opc_request_id: "req-1" });
  });

  it("a request that could not be signed is AuthenticationFailed naming the cause", () => {
    const e = mapFailure({
      ...base,
      status: 401,
      serviceCode: "SigningFailed",
      message: "Failed to fetch the token from auth server",
    });
    expect(e).toMatchObject({ code: "AuthenticationFailed", transient: false });
    expect(e.message).toMatch(/could not be signed.*auth server/);
  });

  it("keeps retry-after on 429", () => {
    expect(
      mapFailure({ ...base, status: 429, serviceCode: "TooManyRequests", retryAfterMs: 2000 }).retryAfterMs,
    ).toBe(2000);
  });
});

describe("parseRetryAfter", () => {
  it.each<[string | null, number | undefined]>([
    [null, undefined],
    ["", undefined],
    ["1", 1000],
    ["2.5", 2500],
    ["garbage", undefined],
    ["99999", 60_000],
  ])("%j → %j", (value, expected) => {
    expect(parseRetryAfter(value)).toBe(expected);
  });

  it("accepts an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:03 GMT", now)).toBe(3000);
  });
});

describe("mapFailure on 401", () => {
  it("names what to check for the way the function authenticates", () => {
    const f = {
      status: 401,
      serviceCode: "NotAuthenticated",
      message: "The security token is not valid",
      opcRequestId: "r",
      retryAfterMs: undefined,
    };
    expect(mapFailure(f, "resource_principal")).toMatchObject({
      code: "AuthenticationFailed",
      transient: false,
    });
    expect(mapFailure(f, "resource_principal").message).toContain("OCI_RESOURCE_PRINCIPAL_RPST");
    expect(mapFailure(f, "config_file").message).toContain("fingerprint");
    expect(mapFailure(f, "instance_principal").message).toContain("instance principal");
  });
});

describe("mapNetworkError", () => {
  it("a refused connection was never processed; a reset may have been", () => {
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    expect(mapNetworkError(refused, false)).toMatchObject({
      code: "NetworkError",
      transient: true,
      outcomeUnknown: false,
    });
    const reset = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } });
    expect(mapNetworkError(reset, false)).toMatchObject({ code: "NetworkError", outcomeUnknown: true });
    expect(mapNetworkError(new Error("aborted"), true)).toMatchObject({
      code: "NetworkError",
      outcomeUnknown: true,
    });
  });

  it("a request that failed or timed out before it was fully written was not sent", () => {
    const reset = Object.assign(new TypeError("socket hang up"), { code: "ECONNRESET" });
    expect(mapNetworkError(reset, false, false)).toMatchObject({
      code: "NetworkError",
      outcomeUnknown: false,
    });
    const timedOut = mapNetworkError(new Error("aborted"), true, false);
    expect(timedOut).toMatchObject({ code: "NetworkError", transient: true, outcomeUnknown: false });
    expect(timedOut.message).toContain("before it could be sent");
  });
});

/** A stand-in for the FDK's per-call context, recording what the handler sets. */
import type { FnContext, FnHttpGateway } from "@fnproject/fdk";

export interface TestContext extends FnContext {
  readonly gatewayStatus: number | undefined;
}

export function fnContext(
  options: { config?: Record<string, string | undefined>; deadline?: Date | null; callId?: string } = {},
): TestContext {
  let status: number | undefined;
  const headers: Record<string, string[]> = {};
  if (options.callId) headers["Fn-Call-Id"] = [options.callId];
  const gateway: FnHttpGateway = {
    requestURL: "",
    method: "POST",
    headers: {},
    get statusCode(): number {
      return status ?? 200;
    },
    set statusCode(value: number) {
      status = value;
    },
    setResponseHeader: () => {},
  };
  return {
    callID: options.callId ?? null,
    deadline: options.deadline === undefined ? new Date(Date.now() + 10_000) : options.deadline,
    config: { ...(options.config ?? {}) },
    headers,
    contentType: "application/json",
    fnID: undefined,
    appID: undefined,
    httpGateway: gateway,
    responseContentType: "application/json",
    setResponseHeader: () => {},
    getHeader: (key: string) => headers[key]?.[0] ?? null,
    get gatewayStatus() {
      return status;
    },
  };
}

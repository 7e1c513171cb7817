/** Functions (20181201): registry of functions; the invoke API is added on top of this. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Principal } from "./auth.js";
import type { CallRecord } from "./calls.js";
import { invalidParameter, OciHttpError } from "./errors.js";
import type { FunctionJson } from "./model.js";
import { isOcid } from "./ocid.js";

type CallDraft = Omit<CallRecord, "seq" | "durationMs" | "status"> & { status?: number };

export interface FunctionsHost {
  readonly url: string;
  readonly tenancyId: string;
  readonly region: string;
}

export class FunctionsService {
  readonly #functions = new Map<string, FunctionJson>();

  constructor(readonly host: FunctionsHost) {}

  register(fns: readonly unknown[]): FunctionJson[] {
    const out: FunctionJson[] = [];
    for (const raw of fns) {
      const fn = parseFunction(raw);
      this.#functions.set(fn.id, fn);
      out.push(fn);
    }
    return out;
  }

  list(): FunctionJson[] {
    return [...this.#functions.values()];
  }

  get(id: string): FunctionJson | undefined {
    return this.#functions.get(id);
  }

  async handle(
    _req: IncomingMessage,
    _res: ServerResponse,
    method: string,
    path: string,
    _headers: Record<string, string>,
    _call: CallDraft,
    _authenticate: (body: Buffer) => Promise<Principal>,
  ): Promise<void> {
    throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No route for ${method} ${path}.`);
  }

  async stopAll(): Promise<void> {}
}

export function parseFunction(raw: unknown): FunctionJson {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw invalidParameter("Each function must be a JSON object.");
  }
  const f = raw as Record<string, unknown>;
  if (typeof f.id !== "string" || !isOcid(f.id)) throw invalidParameter("function.id must be an OCID.");
  if (typeof f.displayName !== "string" || f.displayName === "") {
    throw invalidParameter("function.displayName must be a non-empty string.");
  }
  if (typeof f.bundle !== "string" || f.bundle === "")
    throw invalidParameter("function.bundle must be a path.");
  const timeout = f.timeoutInSeconds ?? 30;
  if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0 || timeout > 3600) {
    throw invalidParameter("function.timeoutInSeconds must be within (0, 3600].");
  }
  const config = f.config ?? {};
  if (
    config === null ||
    typeof config !== "object" ||
    Array.isArray(config) ||
    !Object.values(config).every((v) => typeof v === "string")
  ) {
    throw invalidParameter("function.config must be an object of strings.");
  }
  const fn: FunctionJson = {
    id: f.id,
    displayName: f.displayName,
    bundle: f.bundle,
    timeoutInSeconds: timeout,
    config: config as Record<string, string>,
  };
  if (typeof f.compartmentId === "string") fn.compartmentId = f.compartmentId;
  if (typeof f.applicationId === "string") fn.applicationId = f.applicationId;
  if (typeof f.memoryInMBs === "number") fn.memoryInMBs = f.memoryInMBs;
  return fn;
}

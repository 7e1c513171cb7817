/**
 * Functions (20181201): `GET /functions/{id}` and `POST /functions/{id}/actions/invoke`, run the way
 * OCI Functions runs them: the built bundle as a process under the Fn contract (FnProcess), with the
 * function's config and a resource principal minted for it in its env, one warm process per function,
 * restarted when it has died.
 */
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApplicationStore } from "./applications-api.js";
import { type Authenticator, allows, type Principal } from "./auth.js";
import type { CallRecord } from "./calls.js";
import { invalidParameter, notFound, OciHttpError } from "./errors.js";
import { FnProcess } from "./fn-agent.js";
import { readBody, send } from "./http-util.js";
import type { ApplicationJson, FunctionJson } from "./model.js";
import { isOcid } from "./ocid.js";
import { mintResourcePrincipal } from "./principals.js";

type CallDraft = Omit<CallRecord, "seq" | "durationMs" | "status"> & { status?: number };

export interface FunctionsHost {
  readonly url: string;
  readonly tenancyId: string;
  readonly region: string;
  readonly auth: Authenticator;
  /** `http://127.0.0.1:PORT/{region}` while more than one region is served, else undefined. */
  readonly endpointTemplate: string | undefined;
}

export type FunctionOutputListener = (functionId: string, stream: "stdout" | "stderr", line: string) => void;

interface Warm {
  fn: FnProcess;
  /** The resource principal is minted with this lifetime; the process is replaced before it ends. */
  renewAt: number;
}

const RP_TTL_SECONDS = 24 * 3600;
const INTENTS = new Set(["httprequest", "cloudevent"]);
const INVOKE_TYPES = new Set(["sync", "detached"]);

export class FunctionsService {
  readonly #functions = new Map<string, FunctionJson>();
  readonly #created = new Map<string, string>();
  readonly #warm = new Map<string, Promise<Warm>>();
  readonly #background = new Set<Promise<unknown>>();
  readonly applications: ApplicationStore;
  onOutput: FunctionOutputListener | undefined;

  constructor(readonly host: FunctionsHost) {
    this.applications = new ApplicationStore(host.tenancyId);
  }

  /** Registers applications (upsert by id); their functions' next call starts with the new config. */
  registerApplications(apps: readonly unknown[]): ApplicationJson[] {
    const out = this.applications.register(apps);
    const ids = new Set(out.map((a) => a.id));
    for (const fn of this.#functions.values())
      if (fn.applicationId && ids.has(fn.applicationId)) this.#retire(fn.id);
    return out;
  }

  /**
   * Registers functions (upsert by id), each in its application (see ApplicationStore.resolve), which
   * fixes its `applicationId` and `compartmentId`. Every entry is checked before any is registered.
   */
  register(fns: readonly unknown[]): FunctionJson[] {
    const parsed = fns.map((raw) => parseFunction(raw));
    for (const fn of parsed) {
      const app = this.applications.resolve(fn);
      fn.applicationId = app.id;
      fn.compartmentId = app.compartmentId;
    }
    const out: FunctionJson[] = [];
    for (const fn of parsed) {
      this.#functions.set(fn.id, fn);
      if (!this.#created.has(fn.id)) this.#created.set(fn.id, new Date().toISOString());
      // New config or bundle: the next call starts a fresh process.
      this.#retire(fn.id);
      out.push(fn);
    }
    return out;
  }

  list(): FunctionJson[] {
    return [...this.#functions.values()];
  }

  /** The last lines a function's current process wrote. */
  async output(id: string): Promise<string | undefined> {
    const warm = this.#warm.get(id);
    if (!warm) return undefined;
    return (await warm.catch(() => undefined))?.fn.output();
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    headers: Record<string, string>,
    call: CallDraft,
    authenticate: (body: Buffer, bodyHeaders: "required" | "optional") => Promise<Principal>,
  ): Promise<void> {
    const m = /^\/(?:20181201|20260325)\/functions\/([^/]+)(\/actions\/invoke)?$/.exec(path);
    const id = m?.[1] ? decodeURIComponent(m[1]) : undefined;
    const invoke = m?.[2] !== undefined;
    call.operation = !id
      ? "Unknown"
      : invoke && method === "POST"
        ? "InvokeFunction"
        : !invoke && method === "GET"
          ? "GetFunction"
          : "Unknown";
    if (id) call.functionId = id;
    const body = await readBody(req);
    const principal = await authenticate(body, call.operation === "InvokeFunction" ? "optional" : "required");
    if (call.operation === "Unknown" || !id) {
      throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No route for ${method} ${path}.`);
    }
    if (!isOcid(id)) throw invalidParameter(`Malformed function OCID: ${id.slice(0, 300)}`);
    const fn = this.#functions.get(id);
    if (!fn || !allows(principal, this.#compartmentOf(fn))) throw notFound(`function ${id}`);

    if (call.operation === "GetFunction") {
      call.status = 200;
      send(res, 200, this.model(fn), {
        ...headers,
        etag: createHash("sha1").update(JSON.stringify(fn)).digest("hex"),
      });
      return;
    }

    const intent = header(req, "fn-intent") ?? "httprequest";
    const invokeType = header(req, "fn-invoke-type") ?? "sync";
    if (!INTENTS.has(intent)) throw invalidParameter(`Unsupported fn-intent: ${intent.slice(0, 50)}`);
    if (!INVOKE_TYPES.has(invokeType))
      throw invalidParameter(`Unsupported fn-invoke-type: ${invokeType.slice(0, 50)}`);
    const callId = randomUUID();
    if (header(req, "is-dry-run")?.toLowerCase() === "true") {
      // "A dry run request does not execute the function" (InvokeFunction): checked, answered, not run.
      call.status = 200;
      send(res, 200, undefined, { ...headers, "fn-call-id": callId });
      return;
    }
    const contentType = header(req, "content-type") ?? "application/json";
    if (invokeType === "detached") {
      const run = this.#invoke(fn, body, callId, contentType).catch(() => undefined);
      this.#background.add(run);
      run.finally(() => this.#background.delete(run));
      call.status = 202;
      send(res, 202, undefined, { ...headers, "fn-call-id": callId });
      return;
    }
    const result = await this.#invoke(fn, body, callId, contentType);
    call.status = 200;
    send(res, 200, result.body, { ...headers, "fn-call-id": callId }, result.contentType);
  }

  /** Stops every function process; detached calls still running fail with them. */
  async stopAll(): Promise<void> {
    const all = [...this.#warm.values()];
    this.#warm.clear();
    await Promise.allSettled(all.map(async (w) => (await w).fn.stop()));
    await Promise.allSettled([...this.#background]);
  }

  #compartmentOf(fn: FunctionJson): string {
    return fn.compartmentId ?? this.host.tenancyId;
  }

  /** The SDK `Function` model: what GetFunction answers (ListFunctions answers it without `config`). */
  model(fn: FunctionJson): Record<string, unknown> {
    const created = this.#created.get(fn.id) ?? new Date().toISOString();
    return {
      id: fn.id,
      displayName: fn.displayName,
      lifecycleState: "ACTIVE",
      applicationId: this.applications.resolve(fn).id,
      compartmentId: this.#compartmentOf(fn),
      image: `emulator.local/${fn.displayName}:latest`,
      imageDigest: "sha256:0000000000000000000000000000000000000000000000000000000000000000",
      shape: "GENERIC_X86",
      memoryInMBs: fn.memoryInMBs ?? 128,
      config: fn.config ?? {},
      timeoutInSeconds: fn.timeoutInSeconds ?? 30,
      invokeEndpoint: this.host.url,
      freeformTags: {},
      definedTags: {},
      timeCreated: created,
      timeUpdated: created,
    };
  }

  async #invoke(
    fn: FunctionJson,
    body: Buffer,
    callId: string,
    contentType: string,
  ): Promise<{ body: Buffer; contentType: string }> {
    const timeoutMs = (fn.timeoutInSeconds ?? 30) * 1000;
    const warm = await this.#process(fn);
    const deadline = new Date(Date.now() + timeoutMs);
    let res: Awaited<ReturnType<FnProcess["call"]>>;
    try {
      res = await warm.fn.call(body, { deadline, callId, contentType, graceMs: 1_000 });
    } catch (e) {
      if (!warm.fn.alive) this.#retire(fn.id);
      const timedOut = Date.now() >= deadline.getTime();
      throw timedOut
        ? new OciHttpError(
            504,
            "FunctionInvokeTimeout",
            `Function ${fn.displayName} timed out after ${timeoutMs / 1000} s.`,
          )
        : new OciHttpError(
            502,
            "FunctionInvokeExecutionFailed",
            `Function ${fn.displayName} failed: ${e instanceof Error ? e.message : String(e)}`,
          );
    }
    if (res.status !== 200) {
      throw new OciHttpError(
        502,
        "FunctionInvokeExecutionFailed",
        `Function ${fn.displayName} failed with status ${res.status}: ${res.body.slice(0, 500)}`,
      );
    }
    return {
      body: Buffer.from(res.body),
      contentType: res.headers["content-type"] ?? "application/octet-stream",
    };
  }

  /** The function's warm process, started on first use and replaced when dead or its principal is old. */
  async #process(fn: FunctionJson): Promise<Warm> {
    const existing = this.#warm.get(fn.id);
    if (existing) {
      const warm = await existing.catch(() => undefined);
      if (warm?.fn.alive && Date.now() < warm.renewAt) return warm;
      if (this.#warm.get(fn.id) === existing) this.#retire(fn.id);
      const replaced = this.#warm.get(fn.id);
      if (replaced && replaced !== existing) return await replaced;
    }
    const starting = this.#start(fn);
    this.#warm.set(fn.id, starting);
    try {
      return await starting;
    } catch (e) {
      if (this.#warm.get(fn.id) === starting) this.#warm.delete(fn.id);
      throw new OciHttpError(
        502,
        "FunctionInvokeContainerInitFailed",
        `Function ${fn.displayName} could not start: ${e instanceof Error ? e.message : String(e)}`.slice(
          0,
          2000,
        ),
      );
    }
  }

  async #start(fn: FunctionJson): Promise<Warm> {
    const app = this.applications.resolve(fn);
    // As OCI does: the application's config, overlaid by the function's own.
    const config = { ...app.config, ...fn.config };
    const allowed = config.ALLOWED_COMPARTMENT_IDS?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const rp = await mintResourcePrincipal(
      this.host.auth,
      {
        compartmentId: this.#compartmentOf(fn),
        principalId: fn.id,
        ttlSeconds: RP_TTL_SECONDS,
        ...(allowed && allowed.length > 0 ? { compartments: allowed } : {}),
      },
      { tenancyId: this.host.tenancyId, region: this.host.region },
    );
    const env: Record<string, string> = {
      ...config,
      ...rp.env,
      OCI_COMPUTE_ENDPOINT: this.host.url,
      // Every service (Compute, Container Engine, Container Instances) is served on this one port.
      OCI_ENDPOINT: this.host.url,
      // Several regions served: each region's calls go under its prefix, unless the config says otherwise.
      ...(this.host.endpointTemplate && config.OCI_ENDPOINT_TEMPLATE === undefined
        ? { OCI_ENDPOINT_TEMPLATE: this.host.endpointTemplate }
        : {}),
      FN_APP_ID: app.id,
      FN_FN_ID: fn.id,
      FN_APP_NAME: app.displayName,
      FN_FN_NAME: fn.displayName,
    };
    const onOutput = this.onOutput;
    const proc = await FnProcess.start({
      bundle: fn.bundle,
      env,
      memoryMb: fn.memoryInMBs ?? 128,
      ...(onOutput
        ? { onOutput: (stream: "stdout" | "stderr", line: string) => onOutput(fn.id, stream, line) }
        : {}),
    });
    return { fn: proc, renewAt: Date.now() + (RP_TTL_SECONDS - 300) * 1000 };
  }

  #retire(id: string): void {
    const warm = this.#warm.get(id);
    if (!warm) return;
    this.#warm.delete(id);
    warm.then(
      (w) => w.fn.stop(),
      () => undefined,
    );
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === "string" && v !== "" ? v : undefined;
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
  if (f.compartmentId !== undefined && (typeof f.compartmentId !== "string" || !isOcid(f.compartmentId))) {
    throw invalidParameter("function.compartmentId must be an OCID.");
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

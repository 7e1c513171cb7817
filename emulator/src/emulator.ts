/**
 * The emulator: one HTTP server on 127.0.0.1 serving Compute (20160918), Functions (20181201; the
 * Python SDK behind the OCI CLI 3.9x also uses 20260325 for management calls),
 * the instance metadata service (/opc/v2), the federation endpoint (/v1/x509) and the admin API
 * (/_emulator). State lives in memory; a state file (or object) seeds it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleAdmin, validateTimings } from "./admin-api.js";
import { Authenticator, allows, type Principal } from "./auth.js";
import { CallLog, type CallRecord } from "./calls.js";
import { ContainerInstances } from "./container-instances.js";
import { invalidParameter, notAuthenticated, notFound, OciHttpError } from "./errors.js";
import { FaultInjector, parseFaults } from "./faults.js";
import { FunctionsService } from "./functions-api.js";
import { newRequestId, parseJsonObject, readBody, send, sleep } from "./http-util.js";
import { InstancePools } from "./instance-pools.js";
import { type ActionPlanContext, InstanceStore } from "./instances.js";
import {
  DEFAULT_DURATIONS_MS,
  type EmulatorState,
  INSTANCE_ACTIONS,
  type InstanceActionName,
  type InstanceJson,
  LIFECYCLE_STATES,
  type LifecycleState,
  type Timings,
} from "./model.js";
import { NodePools } from "./node-pools.js";
import { isOcid } from "./ocid.js";
import { InstanceIdentities } from "./principals.js";
import type { Routed, Service } from "./service.js";

export const DEFAULT_REGION = "us-ashburn-1";
export const DEFAULT_TENANCY = "ocid1.tenancy.oc1..emulatortenancy";
const LIST_DEFAULT_LIMIT = 100;
const LIST_MAX_LIMIT = 1000;
const RETRY_CACHE_CAP = 100_000;

interface CachedAnswer {
  status: number;
  body: string;
  etag: string;
}

/** What a request handler fills in for the call log. */
type CallDraft = Omit<CallRecord, "seq" | "durationMs" | "status"> & { status?: number };

class DroppedConnection extends Error {}

export class Emulator {
  readonly region: string;
  readonly tenancyId: string;
  readonly timings: Timings;
  readonly store: InstanceStore;
  readonly faults = new FaultInjector();
  readonly calls = new CallLog();
  readonly #retryCache = new Map<string, CachedAnswer>();
  readonly auth: Authenticator;
  readonly identities: InstanceIdentities;
  readonly functions: FunctionsService;
  readonly instancePools: InstancePools;
  readonly nodePools: NodePools;
  readonly containerInstances: ContainerInstances;
  /** Services by API version (issue 13); Compute instances and Functions keep their own routes. */
  readonly #services: ReadonlyMap<string, Service>;
  readonly #server: Server;
  #url = "";

  private constructor(
    state: EmulatorState,
    timeScale: number | undefined,
    auth: Authenticator,
    ids: InstanceIdentities,
  ) {
    this.region = state.region ?? DEFAULT_REGION;
    this.tenancyId = state.tenancyId ?? DEFAULT_TENANCY;
    this.timings = {
      timeScale: timeScale ?? state.timeScale ?? 1,
      durationsMs: { ...DEFAULT_DURATIONS_MS, ...state.durationsMs },
    };
    validateTimings(this.timings);
    this.auth = auth;
    this.identities = ids;
    this.store = new InstanceStore(this.region, this.tenancyId);
    this.functions = new FunctionsService(this);
    if (state.faults) this.faults.set(parseFaults(state.faults));
    this.store.upsert(state.instances ?? [], this.planContext(""));
    const env = {
      region: this.region,
      tenancyId: this.tenancyId,
      timings: this.timings,
      faults: this.faults,
      instances: this.store,
    };
    this.instancePools = new InstancePools(env);
    this.nodePools = new NodePools(env);
    this.containerInstances = new ContainerInstances(env);
    this.#services = new Map<string, Service>([
      ["20160918", this.instancePools],
      ["20180222", this.nodePools],
      ["20210415", this.containerInstances],
    ]);
    this.instancePools.upsert(state.instancePools ?? [], Date.now());
    this.nodePools.upsert(state.nodePools ?? [], Date.now());
    this.containerInstances.upsert(state.containerInstances ?? [], Date.now());
    for (const key of state.apiKeys ?? []) this.auth.registerApiKey(key);
    this.functions.register(state.functions ?? []);
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        // #handle answers every error itself; this only guards against a crash on a broken socket.
        if (!res.headersSent) res.destroy();
      });
    });
    this.#server.keepAliveTimeout = 30_000;
  }

  static async create(state: EmulatorState = {}, timeScale?: number): Promise<Emulator> {
    const [auth, ids] = await Promise.all([Authenticator.create(), InstanceIdentities.create()]);
    return new Emulator(state, timeScale, auth, ids);
  }

  get url(): string {
    return this.#url;
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, "127.0.0.1", () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    this.#url = `http://127.0.0.1:${address.port}`;
    return this.#url;
  }

  async close(): Promise<void> {
    await this.functions.stopAll();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  planContext(instanceId: string): ActionPlanContext {
    return {
      now: Date.now(),
      durations: this.timings.durationsMs,
      timeScale: this.timings.timeScale,
      holdMs: instanceId ? this.faults.holdMs(instanceId) : 0,
    };
  }

  snapshot(): EmulatorState & { timings: Timings } {
    return {
      region: this.region,
      tenancyId: this.tenancyId,
      timeScale: this.timings.timeScale,
      durationsMs: { ...this.timings.durationsMs },
      timings: structuredClone(this.timings),
      faults: this.faults.current,
      instances: this.store.all(Date.now()),
      apiKeys: this.auth.apiKeys,
      functions: this.functions.list(),
      instancePools: this.instancePools.all(Date.now()),
      nodePools: this.nodePools.store.all(Date.now()),
      containerInstances: this.containerInstances.store.all(Date.now()),
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const clientId = req.headers["opc-request-id"];
    const ours = newRequestId();
    const opcRequestId = typeof clientId === "string" && clientId.length <= 98 ? `${clientId}/${ours}` : ours;
    const headers: Record<string, string> = { "opc-request-id": opcRequestId };
    let path = "/";
    let query = new URLSearchParams();
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      path = url.pathname;
      query = url.searchParams;
    } catch {
      send(res, 400, invalidParameter("Malformed request URL.").toJSON(), headers);
      return;
    }
    const method = req.method ?? "GET";

    if (path.startsWith("/_emulator/") || path === "/_emulator") {
      try {
        const body = await readBody(req);
        const answer = await handleAdmin(this, method, path, query, body);
        send(res, answer.status, answer.body, headers);
      } catch (e) {
        this.#sendError(res, e, headers);
      }
      return;
    }

    const call: CallDraft = {
      at: started,
      method,
      path,
      operation: "Unknown",
      principal: "-",
      opcRequestId,
      replayed: false,
      transition: false,
    };
    const retryToken = req.headers["opc-retry-token"];
    if (typeof retryToken === "string") call.retryToken = retryToken;
    const routed = this.#routeService(method, path);
    try {
      if (path.startsWith("/opc/v2/")) {
        call.operation = "InstanceMetadata";
        await this.#metadata(req, res, path, headers, call);
      } else if (path === "/v1/x509" && method === "POST") {
        call.operation = "FederateX509";
        const body = await readBody(req);
        const { token, instanceId } = await this.identities.federate(this.auth, req, body);
        call.principal = instanceId;
        call.status = 200;
        send(res, 200, { token }, headers);
      } else if (routed) {
        await this.#runService(req, res, routed, query, headers, call);
      } else if (path.startsWith("/20160918/")) {
        await this.#compute(req, res, method, path, query, headers, call);
      } else if (path.startsWith("/20181201/") || path.startsWith("/20260325/")) {
        await this.functions.handle(req, res, method, path, headers, call, (body, bodyHeaders) =>
          this.#authenticate(req, body, call, bodyHeaders),
        );
      } else {
        throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No route for ${method} ${path}.`);
      }
    } catch (e) {
      if (e instanceof DroppedConnection) {
        call.status = 0;
        res.socket?.destroy();
        req.socket.destroy();
      } else {
        if (e instanceof OciHttpError && e.status === 400 && e.message.includes("exceeds")) {
          headers.connection = "close";
        }
        const err = this.#sendError(res, e, headers);
        call.status = err.status;
        call.serviceCode = err.code;
      }
    }
    this.calls.add({ ...call, status: call.status ?? 0, durationMs: Date.now() - started });
  }

  #routeService(method: string, path: string): Routed | undefined {
    const [version, ...parts] = path.split("/").filter(Boolean);
    return this.#services.get(version ?? "")?.route(method, parts);
  }

  /** Instance pools, node pools, container instances: the same faults, signing and rate limit as Compute. */
  async #runService(
    req: IncomingMessage,
    res: ServerResponse,
    routed: Routed,
    query: URLSearchParams,
    headers: Record<string, string>,
    call: CallDraft,
  ): Promise<void> {
    call.operation = routed.operation;
    if (routed.targetId !== undefined) call.targetId = routed.targetId;
    if (routed.action !== undefined) call.action = routed.action;
    const { body, principal } = await this.#admit(req, call);
    const answer = routed.run({ req, query, body, principal, call, now: Date.now() });
    if (this.faults.shouldDropAfter()) {
      call.fault = "dropAfter";
      throw new DroppedConnection();
    }
    call.status = answer.status;
    send(res, answer.status, answer.body, { ...headers, ...answer.headers });
  }

  /** Faults before the request, then authentication, rate limit and random errors, in Compute's order. */
  async #admit(req: IncomingMessage, call: CallDraft): Promise<{ body: Buffer; principal: Principal }> {
    if (this.faults.shouldDropBefore()) {
      call.fault = "drop";
      throw new DroppedConnection();
    }
    if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs);
    const body = await readBody(req);
    const principal = await this.#authenticate(req, body, call);
    try {
      this.faults.rateLimit(principal.id, Date.now());
    } catch (e) {
      call.fault = "rateLimit";
      throw e;
    }
    try {
      this.faults.randomError();
    } catch (e) {
      call.fault = "errorRate";
      throw e;
    }
    return { body, principal };
  }

  #sendError(res: ServerResponse, e: unknown, headers: Record<string, string>): OciHttpError {
    const err =
      e instanceof OciHttpError
        ? e
        : new OciHttpError(
            500,
            "InternalError",
            `Internal error in the emulator: ${e instanceof Error ? e.message : String(e)}`,
          );
    send(res, err.status, err.toJSON(), { ...headers, ...err.headers });
    return err;
  }

  async #authenticate(
    req: IncomingMessage,
    body: Buffer,
    call: CallDraft,
    bodyHeaders: "required" | "optional" = "required",
  ): Promise<Principal> {
    const principal = await this.auth.authenticate(req, body, bodyHeaders);
    call.principal = principal.id;
    return principal;
  }

  async #metadata(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    headers: Record<string, string>,
    call: CallDraft,
  ): Promise<void> {
    if (req.headers.authorization !== "Bearer Oracle") {
      throw notAuthenticated("The metadata service requires the header Authorization: Bearer Oracle.");
    }
    const identity = this.identities.current ?? (await this.ensureInstanceIdentity());
    call.principal = identity.instanceId;
    const text = (body: string) => {
      call.status = 200;
      send(res, 200, body, headers, "text/plain");
    };
    switch (path) {
      case "/opc/v2/instance/region":
        return text(this.region);
      case "/opc/v2/instance/canonicalRegionName":
        return text(this.region);
      case "/opc/v2/instance/id":
        return text(identity.instanceId);
      case "/opc/v2/instance/compartmentId":
        return text(identity.compartmentId);
      case "/opc/v2/instance/":
      case "/opc/v2/instance":
        call.status = 200;
        send(
          res,
          200,
          {
            id: identity.instanceId,
            compartmentId: identity.compartmentId,
            region: this.region,
            canonicalRegionName: this.region,
            tenantId: identity.tenancyId,
          },
          headers,
        );
        return;
      case "/opc/v2/identity/cert.pem":
        return text(identity.certPem);
      case "/opc/v2/identity/key.pem":
        return text(identity.keyPem);
      case "/opc/v2/identity/intermediate.pem":
        return text(this.identities.intermediatePem);
      default:
        throw new OciHttpError(404, "NotFound", `No metadata at ${path}.`);
    }
  }

  /** The identity the metadata endpoints serve when none was set up: a management instance in the tenancy. */
  async ensureInstanceIdentity() {
    return (
      this.identities.current ??
      (await this.identities.issue(
        "ocid1.instance.oc1.iad.emulatormanagementinstance",
        this.tenancyId,
        this.tenancyId,
      ))
    );
  }

  async #compute(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    query: URLSearchParams,
    headers: Record<string, string>,
    call: CallDraft,
  ): Promise<void> {
    const parts = path.split("/").filter(Boolean); // ["20160918", "instances", id?]
    const isList = parts.length === 2 && parts[1] === "instances";
    const isOne = parts.length === 3 && parts[1] === "instances";
    call.operation =
      isList && method === "GET"
        ? "ListInstances"
        : isOne && method === "GET"
          ? "GetInstance"
          : isOne && method === "POST"
            ? "InstanceAction"
            : "Unknown";
    const instanceId = isOne ? decodeURIComponent(parts[2] ?? "") : undefined;
    if (instanceId !== undefined) call.instanceId = instanceId;
    const action = query.get("action");
    if (call.operation === "InstanceAction" && action !== null) call.action = action;

    if (this.faults.shouldDropBefore()) {
      call.fault = "drop";
      throw new DroppedConnection();
    }
    if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs);
    const body = await readBody(req);
    const principal = await this.#authenticate(req, body, call);
    try {
      this.faults.rateLimit(principal.id, Date.now());
    } catch (e) {
      call.fault = "rateLimit";
      throw e;
    }
    try {
      this.faults.randomError();
    } catch (e) {
      call.fault = "errorRate";
      throw e;
    }

    let status: number;
    let answer: unknown;
    const answerHeaders: Record<string, string> = {};
    if (call.operation === "ListInstances") {
      const result = this.#list(query, principal);
      status = 200;
      answer = result.items;
      if (result.nextPage !== undefined) answerHeaders["opc-next-page"] = `p${result.nextPage}`;
    } else if (call.operation === "GetInstance" && instanceId !== undefined) {
      const found = this.#visibleInstance(instanceId, principal);
      status = 200;
      answer = found.instance;
      answerHeaders.etag = found.etag;
    } else if (call.operation === "InstanceAction" && instanceId !== undefined) {
      const cached = this.#action(req, instanceId, action, body, principal, call);
      status = cached.status;
      answer = cached.body;
      answerHeaders.etag = cached.etag;
    } else {
      throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No route for ${method} ${path}.`);
    }
    if (this.faults.shouldDropAfter()) {
      call.fault = "dropAfter";
      throw new DroppedConnection();
    }
    call.status = status;
    send(res, status, answer, { ...headers, ...answerHeaders });
  }

  #visibleInstance(id: string, principal: Principal) {
    if (!isOcid(id, "instance")) throw invalidParameter(`Malformed instance OCID: ${id.slice(0, 300)}`);
    const found = this.store.get(id, Date.now());
    if (!found || !allows(principal, found.instance.compartmentId)) throw notFound(`instance ${id}`);
    return found;
  }

  #list(query: URLSearchParams, principal: Principal) {
    const compartmentId = query.get("compartmentId");
    if (!compartmentId) throw new OciHttpError(400, "MissingParameter", "compartmentId is required.");
    if (!isOcid(compartmentId))
      throw invalidParameter(`Malformed compartmentId: ${compartmentId.slice(0, 300)}`);
    if (!allows(principal, compartmentId)) throw notFound(`compartment ${compartmentId}`);
    const limitRaw = query.get("limit");
    let limit = LIST_DEFAULT_LIMIT;
    if (limitRaw !== null) {
      limit = Number(limitRaw);
      if (!Number.isInteger(limit) || limit < 1) throw invalidParameter("limit must be a positive integer.");
      limit = Math.min(limit, LIST_MAX_LIMIT);
    }
    const pageRaw = query.get("page");
    let page = 0;
    if (pageRaw !== null) {
      const m = /^p(\d{1,12})$/.exec(pageRaw);
      if (!m) throw invalidParameter("Invalid page token.");
      page = Number(m[1]);
    }
    const lifecycleState = query.get("lifecycleState");
    if (lifecycleState !== null && !LIFECYCLE_STATES.includes(lifecycleState as LifecycleState)) {
      throw invalidParameter(`Invalid lifecycleState: ${lifecycleState.slice(0, 100)}`);
    }
    const displayName = query.get("displayName");
    return this.store.list(
      {
        compartmentId,
        ...(lifecycleState !== null ? { lifecycleState } : {}),
        ...(displayName !== null ? { displayName } : {}),
      },
      limit,
      page,
      Date.now(),
    );
  }

  /**
   * A power action. Everything from the retry-token lookup to the cache write is synchronous, so two
   * concurrent requests with one token cannot both cause a transition.
   */
  #action(
    req: IncomingMessage,
    instanceId: string,
    actionRaw: string | null,
    body: Buffer,
    principal: Principal,
    call: CallDraft,
  ): CachedAnswer {
    if (actionRaw === null)
      throw new OciHttpError(400, "MissingParameter", "The action query parameter is required.");
    if (!INSTANCE_ACTIONS.includes(actionRaw as InstanceActionName)) {
      throw invalidParameter(
        `Unsupported action: ${actionRaw.slice(0, 100)}. Supported: ${INSTANCE_ACTIONS.join(", ")}.`,
      );
    }
    const action = actionRaw as InstanceActionName;
    if (body.length > 0) parseJsonObject(body, "instancePowerActionDetails");
    const found = this.#visibleInstance(instanceId, principal);
    const key = call.retryToken ? `${principal.id}|${instanceId}|${action}|${call.retryToken}` : undefined;
    if (key) {
      const cached = this.#retryCache.get(key);
      if (cached) {
        call.replayed = true;
        return cached;
      }
    }
    const ifMatch = req.headers["if-match"];
    if (typeof ifMatch === "string" && ifMatch !== found.etag) {
      throw new OciHttpError(
        412,
        "NoEtagMatch",
        "The if-match etag does not match the instance's current etag.",
      );
    }
    const outcome = this.store.act(
      instanceId,
      action,
      this.planContext(instanceId),
      (instance: InstanceJson) => {
        if (action !== "START") return;
        try {
          this.faults.checkCapacity(instance);
        } catch (e) {
          call.fault = "outOfCapacity";
          throw e;
        }
      },
    );
    if (!outcome) throw notFound(`instance ${instanceId}`);
    call.transition = outcome.kind === "transition";
    const answer: CachedAnswer = { status: 200, body: JSON.stringify(outcome.instance), etag: outcome.etag };
    if (key) {
      this.#retryCache.set(key, answer);
      if (this.#retryCache.size > RETRY_CACHE_CAP) {
        const oldest = this.#retryCache.keys().next().value;
        if (oldest !== undefined) this.#retryCache.delete(oldest);
      }
    }
    return answer;
  }
}

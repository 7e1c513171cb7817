/**
 * The emulator: one HTTP server on 127.0.0.1 serving Compute (20160918), Functions (20181201; the
 * Python SDK behind the OCI CLI 3.9x also uses 20260325 for management calls),
 * the instance metadata service (/opc/v2), the federation endpoint (/v1/x509) and the admin API
 * (/_emulator). State lives in memory; a state file (or object) seeds it.
 * Several regions (issue 14): each served region's services are under `/<region-name>/...` with its
 * own instances, faults and kinds (region-scope.ts); unprefixed paths are the default region's.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type AdminTarget, handleAdmin, validateTimings } from "./admin-api.js";
import { ApplicationsApi } from "./applications-api.js";
import { Authenticator, allows, type Principal } from "./auth.js";
import { CallLog, type CallRecord } from "./calls.js";
import { invalidParameter, notAuthenticated, notFound, OciHttpError } from "./errors.js";
import { FunctionsService } from "./functions-api.js";
import { newRequestId, parseJsonObject, readBody, send, sleep } from "./http-util.js";
import { IdentityService } from "./identity-api.js";
import { parseInstanceUpdate } from "./instance-update.js";
import {
  DEFAULT_DURATIONS_MS,
  type EmulatorState,
  INSTANCE_ACTIONS,
  type InstanceActionName,
  type InstanceJson,
  LIFECYCLE_STATES,
  type LifecycleState,
  type RegionState,
  type Timings,
} from "./model.js";
import { MonitoringService } from "./monitoring-api.js";
import { NotificationsService } from "./notifications-api.js";
import { isOcid } from "./ocid.js";
import { InstanceIdentities } from "./principals.js";
import { type CachedAnswer, RegionScope } from "./region-scope.js";
import { fixedOcidIn, looksLikeRegionName, type RegionInfo, regionInfo } from "./regions.js";
import type { Routed } from "./service.js";
import { listShapesPage } from "./shapes.js";

export const DEFAULT_REGION = "us-ashburn-1";
export const DEFAULT_TENANCY = "ocid1.tenancy.oc1..emulatortenancy";
const LIST_DEFAULT_LIMIT = 100;
const LIST_MAX_LIMIT = 1000;

/** Bytes of a request body the call log keeps. */
const CALL_BODY_BYTES = 4096;

/** The header names a draft-cavage Authorization header says it signs, or undefined without one. */
function signedHeaderNames(authorization: string | undefined): string[] | undefined {
  const match = authorization?.match(/\bheaders="([^"]*)"/);
  return match?.[1]?.split(" ").filter(Boolean);
}

type CallDraft = Omit<CallRecord, "seq" | "durationMs" | "status"> & { status?: number };

class DroppedConnection extends Error {}

/** The region a path names and the path without that prefix; undefined: an unknown region. */
interface Scoped {
  region: RegionScope;
  path: string;
  prefixed: boolean;
}

/** The region fields of a state object, checked to be an object. */
function regionStateOf(input: unknown, where: string): RegionState {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw invalidParameter(`${where} must be a JSON object.`);
  }
  const s = input as RegionState;
  return {
    ...(s.instances !== undefined ? { instances: s.instances } : {}),
    ...(s.faults !== undefined ? { faults: s.faults } : {}),
    ...(s.instancePools !== undefined ? { instancePools: s.instancePools } : {}),
    ...(s.nodePools !== undefined ? { nodePools: s.nodePools } : {}),
    ...(s.containerInstances !== undefined ? { containerInstances: s.containerInstances } : {}),
    ...(s.shapes !== undefined ? { shapes: s.shapes } : {}),
  };
}

export class Emulator {
  /** The default region's name. */
  readonly region: string;
  readonly tenancyId: string;
  readonly timings: Timings;
  readonly calls = new CallLog();
  readonly auth: Authenticator;
  readonly identities: InstanceIdentities;
  readonly functions: FunctionsService;
  readonly applications: ApplicationsApi;
  readonly notifications = new NotificationsService();
  readonly monitoring = new MonitoringService();
  readonly identity: IdentityService;
  /** Served regions by name, the default one first. */
  readonly #regions = new Map<string, RegionScope>();
  readonly #server: Server;
  #url = "";

  private constructor(
    state: EmulatorState,
    options: { timeScale?: number | undefined; regions?: readonly string[] | undefined },
    auth: Authenticator,
    ids: InstanceIdentities,
  ) {
    this.region = regionInfo(state.region ?? DEFAULT_REGION, "state.region").name;
    this.tenancyId = state.tenancyId ?? DEFAULT_TENANCY;
    this.timings = {
      timeScale: options.timeScale ?? state.timeScale ?? 1,
      durationsMs: { ...DEFAULT_DURATIONS_MS, ...state.durationsMs },
    };
    validateTimings(this.timings);
    this.auth = auth;
    this.identities = ids;
    this.functions = new FunctionsService(this);
    this.applications = new ApplicationsApi(this.functions.applications, this.functions);
    this.identity = new IdentityService(this);
    this.addRegion(this.region, regionStateOf(state, "state"), "state.region");
    const regions = state.regions ?? {};
    if (regions === null || typeof regions !== "object" || Array.isArray(regions)) {
      throw invalidParameter("state.regions must be an object keyed by region name.");
    }
    for (const [name, regionState] of Object.entries(regions)) {
      if (name === this.region) {
        throw invalidParameter(
          `state.regions.${name}: ${name} is the default region; its state is the top-level fields.`,
        );
      }
      this.addRegion(name, regionStateOf(regionState, `state.regions.${name}`), `state.regions.${name}`);
    }
    for (const name of options.regions ?? []) {
      if (!this.#regions.has(name)) this.addRegion(name, {}, "regions");
    }
    for (const key of state.apiKeys ?? []) this.auth.registerApiKey(key);
    this.functions.registerApplications(state.applications ?? []);
    this.functions.register(state.functions ?? []);
    this.notifications.register(state.topics ?? []);
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        // #handle answers every error itself; this only guards against a crash on a broken socket.
        if (!res.headersSent) res.destroy();
      });
    });
    this.#server.keepAliveTimeout = 30_000;
  }

  static async create(
    state: EmulatorState = {},
    timeScale?: number,
    regions?: readonly string[],
  ): Promise<Emulator> {
    const [auth, ids] = await Promise.all([Authenticator.create(), InstanceIdentities.create()]);
    return new Emulator(state, { timeScale, regions }, auth, ids);
  }

  /** Serve `name` (or replace its state: a reseed), from its state-file fields. */
  addRegion(name: unknown, state: RegionState, where = "region"): RegionInfo {
    const info = regionInfo(name, where);
    this.#regions.set(info.name, new RegionScope(info, this.tenancyId, this.timings, state));
    return info;
  }

  /** Every served region, the default one first. */
  servedRegions(): RegionInfo[] {
    return [...this.#regions.values()].map((r) => regionInfo(r.name));
  }

  /** The default region's scope: the top-level state fields and unprefixed paths. */
  get home(): RegionScope {
    const home = this.#regions.get(this.region);
    if (!home) throw new Error(`the default region ${this.region} is not served`);
    return home;
  }

  regionScope(name: string): RegionScope | undefined {
    return this.#regions.get(name);
  }

  get url(): string {
    return this.#url;
  }

  /** The functions' OCI_ENDPOINT_TEMPLATE while more than one region is served. */
  get endpointTemplate(): string | undefined {
    return this.#regions.size > 1 ? `${this.#url}/{region}` : undefined;
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

  snapshot(): EmulatorState & { timings: Timings } {
    const now = Date.now();
    const regions: Record<string, RegionState> = {};
    for (const r of this.#regions.values()) if (r.name !== this.region) regions[r.name] = r.snapshot(now);
    return {
      region: this.region,
      tenancyId: this.tenancyId,
      timeScale: this.timings.timeScale,
      durationsMs: { ...this.timings.durationsMs },
      timings: structuredClone(this.timings),
      ...this.home.snapshot(now),
      apiKeys: this.auth.apiKeys,
      functions: this.functions.list(),
      applications: this.functions.applications.all(),
      topics: this.notifications.topics(),
      regions,
    };
  }

  /** What the admin API acts on: `region`'s own parts, the shared rest; calls of that region only when prefixed. */
  #adminView(r: RegionScope, prefixed: boolean): AdminTarget {
    const emu = this;
    return {
      region: r.name,
      tenancyId: this.tenancyId,
      timings: this.timings,
      store: r.store,
      faults: r.faults,
      calls: this.calls,
      callsRegion: prefixed ? r.name : undefined,
      auth: this.auth,
      identities: this.identities,
      functions: this.functions,
      instancePools: r.instancePools,
      nodePools: r.nodePools,
      containerInstances: r.containerInstances,
      get url() {
        return emu.url;
      },
      get shapes() {
        return r.shapes;
      },
      set shapes(shapes) {
        r.shapes = shapes;
      },
      planContext: (id) => r.planContext(id),
      snapshot: () => this.snapshot(),
      regions: () => ({
        default: this.region,
        regions: this.servedRegions().map(({ name, key }) => ({ name, key })),
      }),
      addRegion: (name, state) => {
        const { name: added, key } = this.addRegion(name, regionStateOf(state, "body"), "region");
        return { name: added, key };
      },
    };
  }

  /** The served region a path's first segment names (prefix stripped), else the default region. */
  #scope(path: string): Scoped | undefined {
    const first = /^\/([^/]+)(\/.*)?$/.exec(path);
    const segment = first?.[1] ?? "";
    const served = this.#regions.get(segment);
    if (served) return { region: served, path: first?.[2] ?? "/", prefixed: true };
    if (looksLikeRegionName(segment)) return undefined;
    return { region: this.home, path, prefixed: false };
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const clientId = req.headers["opc-request-id"];
    const ours = newRequestId();
    const opcRequestId = typeof clientId === "string" && clientId.length <= 98 ? `${clientId}/${ours}` : ours;
    const headers: Record<string, string> = { "opc-request-id": opcRequestId };
    let fullPath = "/";
    let query = new URLSearchParams();
    try {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      fullPath = url.pathname;
      query = url.searchParams;
    } catch {
      send(res, 400, invalidParameter("Malformed request URL.").toJSON(), headers);
      return;
    }
    const method = req.method ?? "GET";
    const scoped = this.#scope(fullPath);
    const path = scoped?.path ?? fullPath;

    if (scoped && (path.startsWith("/_emulator/") || path === "/_emulator")) {
      await this.#admin(req, res, method, path, query, headers, scoped);
      return;
    }

    const call: CallDraft = {
      at: started,
      method,
      path,
      region: scoped?.region.name ?? fullPath.split("/")[1] ?? "",
      operation: "Unknown",
      principal: "-",
      opcRequestId,
      replayed: false,
      transition: false,
    };
    const retryToken = req.headers["opc-retry-token"];
    if (typeof retryToken === "string") call.retryToken = retryToken;
    const search = req.url?.split("?")[1];
    if (search) call.query = search;
    const signed = signedHeaderNames(req.headers.authorization);
    if (signed) call.signedHeaders = signed;
    try {
      if (!scoped) {
        throw new OciHttpError(
          404,
          "NotAuthorizedOrNotFound",
          `The region ${call.region} is not served by this emulator (GET /_emulator/regions lists them).`,
        );
      }
      await this.#dispatch(req, res, method, query, headers, call, scoped);
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

  async #admin(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    query: URLSearchParams,
    headers: Record<string, string>,
    scoped: Scoped,
  ): Promise<void> {
    try {
      const body = await readBody(req);
      const json = () => (body.length === 0 ? {} : parseJsonObject(body));
      const own =
        this.notifications.admin(method, path, query, json) ??
        this.monitoring.admin(method, path, query, json) ??
        this.identity.admin(method, path, json);
      const answer = own
        ? { status: 200, body: own }
        : await handleAdmin(this.#adminView(scoped.region, scoped.prefixed), method, path, query, body);
      send(res, answer.status, answer.body, headers);
    } catch (e) {
      this.#sendError(res, e, headers);
    }
  }

  /** Routes one OCI request; regional services answer under a region prefix, the others only without one. */
  async #dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    query: URLSearchParams,
    headers: Record<string, string>,
    call: CallDraft,
    { region: r, path, prefixed }: Scoped,
  ): Promise<void> {
    const authenticate = (body: Buffer) => this.#authenticate(req, body, call, r);
    const routed = this.#route(r, method, path);
    if (routed) return await this.#runService(req, res, r, routed, query, headers, call);
    if (path.startsWith("/20160918/"))
      return await this.#compute(req, res, r, method, path, query, headers, call);
    if (path.startsWith("/20181201/topics/")) {
      return await this.notifications.handle(req, res, method, path, headers, call, r.faults, authenticate);
    }
    if (path.startsWith("/20180401/")) {
      return await this.monitoring.handle(req, res, method, path, headers, call, r.faults, authenticate);
    }
    if (prefixed) {
      throw new OciHttpError(
        404,
        "NotAuthorizedOrNotFound",
        `No route for ${method} ${path} under /${r.name}: Functions, the metadata service and federation are served without a region prefix.`,
      );
    }
    if (path.startsWith("/opc/v2/")) {
      call.operation = "InstanceMetadata";
      return await this.#metadata(req, res, path, headers, call);
    }
    if (path === "/v1/x509" && method === "POST") {
      call.operation = "FederateX509";
      const body = await readBody(req);
      if (body.length > 0) call.body = body.subarray(0, CALL_BODY_BYTES).toString("utf8");
      const { token, instanceId } = await this.identities.federate(this.auth, req, body);
      call.principal = instanceId;
      call.status = 200;
      send(res, 200, { token }, headers);
      return;
    }
    if (ApplicationsApi.matches(path)) {
      return await this.applications.handle(req, res, method, path, query, headers, call, (body) =>
        this.#authenticate(req, body, call, undefined),
      );
    }
    if (path.startsWith("/20181201/") || path.startsWith("/20260325/")) {
      return await this.functions.handle(req, res, method, path, headers, call, (body, bodyHeaders) =>
        this.#authenticate(req, body, call, undefined, bodyHeaders),
      );
    }
    throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No route for ${method} ${path}.`);
  }

  /** Identity's region subscriptions, then the region's instance pools, node pools and container instances. */
  #route(r: RegionScope, method: string, path: string): Routed | undefined {
    const [version, ...parts] = path.split("/").filter(Boolean);
    return (version === "20160918" ? this.identity.route(method, parts) : undefined) ?? r.route(method, path);
  }

  /** Instance pools, node pools, container instances: the same faults, signing and rate limit as Compute. */
  async #runService(
    req: IncomingMessage,
    res: ServerResponse,
    r: RegionScope,
    routed: Routed,
    query: URLSearchParams,
    headers: Record<string, string>,
    call: CallDraft,
  ): Promise<void> {
    call.operation = routed.operation;
    if (routed.targetId !== undefined) call.targetId = routed.targetId;
    if (routed.action !== undefined) call.action = routed.action;
    const { body, principal } = await this.#admit(req, r, call);
    const answer = routed.run({ req, query, body, principal, call, now: Date.now() });
    if (r.faults.shouldDropAfter()) {
      call.fault = "dropAfter";
      throw new DroppedConnection();
    }
    call.status = answer.status;
    send(res, answer.status, answer.body, { ...headers, ...answer.headers });
  }

  /** Faults before the request, then authentication, rate limit and random errors, in Compute's order. */
  async #admit(
    req: IncomingMessage,
    r: RegionScope,
    call: CallDraft,
  ): Promise<{ body: Buffer; principal: Principal }> {
    if (r.faults.shouldDropBefore()) {
      call.fault = "drop";
      throw new DroppedConnection();
    }
    if (r.faults.latencyMs > 0) await sleep(r.faults.latencyMs);
    const body = await readBody(req);
    if (body.length > 0) call.body = body.subarray(0, CALL_BODY_BYTES).toString("utf8");
    const principal = await this.#authenticate(req, body, call, r);
    try {
      r.faults.rateLimit(principal.id, Date.now());
    } catch (e) {
      call.fault = "rateLimit";
      throw e;
    }
    try {
      r.faults.randomError();
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

  /** `region`: the region whose `refuseTokens` fault applies (none for the unregioned Functions API). */
  async #authenticate(
    req: IncomingMessage,
    body: Buffer,
    call: CallDraft,
    region: RegionScope | undefined,
    bodyHeaders: "required" | "optional" = "required",
  ): Promise<Principal> {
    const principal = await this.auth.authenticate(req, body, bodyHeaders);
    call.principal = principal.id;
    if (region?.faults.refusesTokens && principal.kind !== "apiKey") {
      call.fault = "refuseTokens";
      throw notAuthenticated(
        `The region ${region.name} does not accept this ${principal.kind === "resourcePrincipal" ? "resource" : "instance"} principal's security token.`,
      );
    }
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
        fixedOcidIn(this.region, "instance", "emulatormanagementinstance"),
        this.tenancyId,
        this.tenancyId,
      ))
    );
  }

  async #compute(
    req: IncomingMessage,
    res: ServerResponse,
    r: RegionScope,
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
    if (parts.length === 2 && parts[1] === "shapes" && method === "GET") call.operation = "ListShapes";
    if (isOne && method === "PUT") call.operation = "UpdateInstance";
    const instanceId = isOne ? decodeURIComponent(parts[2] ?? "") : undefined;
    if (instanceId !== undefined) call.instanceId = instanceId;
    const action = query.get("action");
    if (call.operation === "InstanceAction" && action !== null) call.action = action;

    const { body, principal } = await this.#admit(req, r, call);
    let status = 200;
    let answer: unknown;
    const answerHeaders: Record<string, string> = {};
    if (call.operation === "ListInstances") {
      const result = this.#list(r, query, principal);
      answer = result.items;
      if (result.nextPage !== undefined) answerHeaders["opc-next-page"] = `p${result.nextPage}`;
    } else if (call.operation === "GetInstance" && instanceId !== undefined) {
      const found = this.#visibleInstance(r, instanceId, principal);
      answer = found.instance;
      answerHeaders.etag = found.etag;
    } else if (call.operation === "InstanceAction" && instanceId !== undefined) {
      const cached = this.#action(req, r, instanceId, action, body, principal, call);
      status = cached.status;
      answer = cached.body;
      answerHeaders.etag = cached.etag;
    } else if (call.operation === "UpdateInstance" && instanceId !== undefined) {
      const updated = this.#updateInstance(req, r, instanceId, body, principal);
      answer = JSON.stringify(updated.instance);
      answerHeaders.etag = updated.etag;
    } else if (call.operation === "ListShapes") {
      const result = this.#listShapes(r, query, principal);
      answer = result.items;
      if (result.nextPage !== undefined) answerHeaders["opc-next-page"] = result.nextPage;
    } else {
      throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No route for ${method} ${path}.`);
    }
    if (r.faults.shouldDropAfter()) {
      call.fault = "dropAfter";
      throw new DroppedConnection();
    }
    call.status = status;
    send(res, status, answer, { ...headers, ...answerHeaders });
    if (call.operation === "GetInstance" && instanceId && r.faults.concurrentUpdate(instanceId)) {
      this.#concurrentUpdate(r, instanceId);
    }
  }

  /** UpdateInstance: displayName and tags, with if-match (emulator/src/instance-update.ts). */
  #updateInstance(
    req: IncomingMessage,
    r: RegionScope,
    instanceId: string,
    body: Buffer,
    principal: Principal,
  ) {
    const update = parseInstanceUpdate(body);
    this.#visibleInstance(r, instanceId, principal);
    const ifMatch = req.headers["if-match"];
    const outcome = r.store.update(
      instanceId,
      update,
      typeof ifMatch === "string" ? ifMatch : undefined,
      Date.now(),
    );
    if (outcome === "mismatch") {
      throw new OciHttpError(
        412,
        "NoEtagMatch",
        "The if-match etag does not match the instance's current etag.",
      );
    }
    if (!outcome) throw notFound(`instance ${instanceId}`);
    return outcome;
  }

  /** Fault concurrentUpdate: another writer changes a freeform tag right after a read. */
  #concurrentUpdate(r: RegionScope, instanceId: string): void {
    const found = r.store.get(instanceId, Date.now());
    if (!found) return;
    const n = Number(found.instance.freeformTags["emulator-concurrent-update"] ?? "0") + 1;
    const freeformTags = { ...found.instance.freeformTags, "emulator-concurrent-update": String(n) };
    r.store.update(instanceId, { freeformTags }, undefined, Date.now());
  }

  /** ListShapes: the catalogue, to whoever may see the compartment, in pages. */
  #listShapes(r: RegionScope, query: URLSearchParams, principal: Principal) {
    visibleListCompartment(query, principal);
    const limit = listLimit(query);
    return listShapesPage(r.shapes, limit, query.get("page"));
  }

  #visibleInstance(r: RegionScope, id: string, principal: Principal) {
    if (!isOcid(id, "instance")) throw invalidParameter(`Malformed instance OCID: ${id.slice(0, 300)}`);
    const found = r.store.get(id, Date.now());
    if (!found || !allows(principal, found.instance.compartmentId)) throw notFound(`instance ${id}`);
    return found;
  }

  #list(r: RegionScope, query: URLSearchParams, principal: Principal) {
    const compartmentId = visibleListCompartment(query, principal);
    const limit = listLimit(query);
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
    return r.store.list(
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
    r: RegionScope,
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
    const found = this.#visibleInstance(r, instanceId, principal);
    const key = call.retryToken ? `${principal.id}|${instanceId}|${action}|${call.retryToken}` : undefined;
    if (key) {
      const cached = r.cachedAnswer(key);
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
    const outcome = r.store.act(instanceId, action, r.planContext(instanceId), (instance: InstanceJson) => {
      if (action !== "START") return;
      try {
        r.faults.checkCapacity(instance);
      } catch (e) {
        call.fault = "outOfCapacity";
        throw e;
      }
    });
    if (!outcome) throw notFound(`instance ${instanceId}`);
    call.transition = outcome.kind === "transition";
    const answer: CachedAnswer = { status: 200, body: JSON.stringify(outcome.instance), etag: outcome.etag };
    if (key) r.cacheAnswer(key, answer);
    return answer;
  }
}

/** A list's `compartmentId`: required, an OCID, and one the principal may see (else 404). */
function visibleListCompartment(query: URLSearchParams, principal: Principal): string {
  const compartmentId = query.get("compartmentId");
  if (!compartmentId) throw new OciHttpError(400, "MissingParameter", "compartmentId is required.");
  if (!isOcid(compartmentId))
    throw invalidParameter(`Malformed compartmentId: ${compartmentId.slice(0, 300)}`);
  if (!allows(principal, compartmentId)) throw notFound(`compartment ${compartmentId}`);
  return compartmentId;
}

/** The `limit` of a List call: default 100, capped at 1000 as OCI does. */
function listLimit(query: URLSearchParams): number {
  const raw = query.get("limit");
  if (raw === null) return LIST_DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1) throw invalidParameter("limit must be a positive integer.");
  return Math.min(limit, LIST_MAX_LIMIT);
}

/**
 * The OCI adapter of the Compute port: oci-core's ComputeClient with real request signing.
 *
 * Retries are ours (batch.ts), so the SDK's retrier must never see a failure: it would log a
 * non-JSON warning per error and hide the retry-after header. The client is therefore given a
 * transport that signs and sends each request itself, records a failed answer (status, service code,
 * message, opc-request-id, retry-after) or a network error for the adapter method that made the call,
 * and hands the SDK a neutral empty answer. The adapter then throws a ComputeError built from what
 * was recorded.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type RequestOptions,
} from "node:http";
import {
  type AuthenticationDetailsProvider,
  DefaultRequestSigner,
  type HttpClient,
  type HttpRequest,
  isRegionProvider,
  type Region,
} from "oci-common";
import { ComputeClient } from "oci-core/lib/client.js";
import type { Instance } from "oci-core/lib/model/instance.js";
import type { Shape } from "oci-core/lib/model/shape.js";
import { sharedAuthProvider } from "./auth.js";
import type { ComputePort, InstanceView, PowerAction } from "./compute.js";
import type { AuthMode, Env } from "./config.js";
import { configuredEndpoint } from "./endpoints.js";
import { ComputeError, describeThrown, PowerError } from "./errors.js";
import { KindRouter } from "./kind-router.js";
import { scrubSecrets } from "./log.js";
import type { RegionalCompute } from "./regions.js";
import type { ShapeInfo, ShapesPort } from "./shapes.js";

const PAGE_LIMIT = 1000;
const MAX_PAGES = 100;

export interface Failure {
  status: number;
  serviceCode: string | undefined;
  message: string;
  opcRequestId: string | undefined;
  retryAfterMs: number | undefined;
}

interface CallSlot {
  signal: AbortSignal | undefined;
  failure?: Failure;
  networkError?: unknown;
  /** Whether the failed request had been fully handed to the OS before it failed. */
  networkErrorAfterWrite?: boolean;
}

/** A failed exchange, saying whether the whole request had been written (it may have been processed). */
class ExchangeError extends Error {
  override readonly name = "ExchangeError";
  constructor(
    override readonly cause: unknown,
    readonly written: boolean,
  ) {
    super(cause instanceof Error ? cause.message : "network failure");
  }
}

const calls = new AsyncLocalStorage<CallSlot>();

/** retry-after: delta seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(60_000, Math.round(Number(trimmed) * 1000));
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(60_000, Math.max(0, at - now));
}

/** Maps a failed OCI answer to the closed set of codes, with retry semantics. */
/** What a 401 points at, per way of authenticating: the operator's next step. */
const CREDENTIALS: Record<AuthMode, string> = {
  resource_principal:
    "the resource principal (OCI_RESOURCE_PRINCIPAL_RPST with OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM) may be expired, malformed or not this key's",
  instance_principal: "the instance principal's security token (from the federation endpoint) was refused",
  config_file: "check the API key in the OCI config file: user, fingerprint, key_file and tenancy",
};

export function mapFailure(f: Failure, authMode?: AuthMode): ComputeError {
  const base = { status: f.status, opcRequestId: f.opcRequestId, serviceCode: f.serviceCode };
  const detail = `${f.serviceCode ?? "HTTP"} ${f.status}: ${f.message}`.slice(0, 300);
  if (f.status === 429) {
    return new ComputeError("TooManyRequests", `OCI throttled the request (${detail})`, {
      ...base,
      transient: true,
      retryAfterMs: f.retryAfterMs,
    });
  }
  if (f.serviceCode === "SigningFailed") {
    // No request left the function: the credentials could not be obtained or used to sign.
    return new ComputeError(
      "AuthenticationFailed",
      `the request could not be signed: the function's credentials are unusable (${f.message})`,
      { ...base, transient: false },
    );
  }
  if (f.status === 401) {
    return new ComputeError(
      "AuthenticationFailed",
      `OCI did not accept the function's credentials (${detail}); ${authMode ? CREDENTIALS[authMode] : "check the principal's token and key"}`,
      { ...base, transient: false },
    );
  }
  if (f.status === 404 || f.status === 403) {
    return new ComputeError("NotAuthorizedOrNotFound", detail, { ...base, transient: false });
  }
  if (f.status === 409 && f.serviceCode === "IncorrectState") {
    return new ComputeError("IncorrectState", detail, { ...base, transient: true });
  }
  if (f.status === 400 && (f.serviceCode === "LimitExceeded" || f.serviceCode === "QuotaExceeded")) {
    return new ComputeError("LimitExceeded", detail, { ...base, transient: false });
  }
  if (f.status >= 500 && /out of host capacity/i.test(f.message)) {
    return new ComputeError(
      "OutOfHostCapacity",
      `OCI has no host capacity for this shape right now (${detail}); try later, another availability domain or another shape`,
      { ...base, transient: false },
    );
  }
  if (f.status >= 500) return new ComputeError("ServiceError", detail, { ...base, transient: true });
  return new ComputeError("ServiceError", detail, { ...base, transient: false });
}

function errorCode(error: unknown): string | undefined {
  if (!error || typeof error !== "object") return undefined;
  const cause = (error as { cause?: unknown }).cause;
  const own = (error as { code?: unknown }).code;
  if (typeof own === "string") return own;
  if (cause && typeof cause === "object") {
    const c = (cause as { code?: unknown }).code;
    if (typeof c === "string") return c;
  }
  return undefined;
}

/** Network-level failures: was the request possibly processed (answer lost)? */
export function mapNetworkError(error: unknown, aborted: boolean, written = true): ComputeError {
  const code = errorCode(error);
  if (aborted) {
    // A request that was not yet fully written cannot have been processed: it was not sent.
    return new ComputeError(
      "NetworkError",
      written
        ? "no answer from OCI in time (request timed out)"
        : "the request timed out before it could be sent to OCI",
      { transient: true, outcomeUnknown: written },
    );
  }
  const notSent = !written || code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN";
  const message = error instanceof Error ? error.message : "network failure";
  return new ComputeError(
    "NetworkError",
    `could not reach OCI (${code ? `${code}: ` : ""}${message})`.slice(0, 300),
    {
      transient: true,
      outcomeUnknown: !notSent,
    },
  );
}

/** What the SDK reads from a response: status, headers.get, json(). */
function sdkResponse(status: number, text: string, headers: IncomingHttpHeaders): Response {
  const lite = {
    status,
    ok: status >= 200 && status < 300,
    statusText: "",
    headers: {
      get: (name: string): string | null => {
        const v = headers[name.toLowerCase()];
        return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
      },
    },
    json: async (): Promise<unknown> => (text === "" ? null : JSON.parse(text)),
    text: async (): Promise<string> => text,
  };
  return lite as unknown as Response;
}

/**
 * A neutral answer for the SDK when the real one was a failure we recorded.
 *
 * Why not a cleaner hook (checked against oci-common 2.139.1's public API): every response passes
 * through GenericRetrier.makeServiceCall, and ClientConfiguration offers only retryConfiguration,
 * circuitBreaker and httpOptions, no response or error interceptor. Handing the SDK the real non-2xx
 * answer makes an OciError (handleErrorResponse) that drops the retry-after header, and throwing our
 * own error from send() is caught as a "non-service error" and rebuilt as a plain {code, message}
 * object, losing its class and whether the request was written; both paths also console.warn one
 * non-JSON line per failure ("Request cannot be retried…" / "All retry attempts have exhausted…").
 * So the transport records the failure for OciCompute.call (AsyncLocalStorage) and answers 200 "null".
 */
const NEUTRAL = (): Response => sdkResponse(200, "null", {});

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
  https: undefined as import("node:https").Agent | undefined,
};

async function transportFor(url: URL): Promise<{ request: typeof httpRequest; agent: HttpAgent }> {
  if (url.protocol === "http:") return { request: httpRequest, agent: agents.http };
  // Loaded only for real OCI (TLS): the emulator and the tests speak plain HTTP on loopback.
  const https = await import("node:https");
  agents.https ??= new https.Agent({ keepAlive: true, maxSockets: 64 });
  return { request: https.request as unknown as typeof httpRequest, agent: agents.https };
}

/** One HTTP exchange over node:http(s) with keep-alive, honouring the caller's AbortSignal. */
async function exchange(
  method: string,
  uri: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal | undefined,
): Promise<RawAnswer> {
  const url = new URL(uri);
  const { request, agent } = await transportFor(url);
  return await new Promise<RawAnswer>((resolve, rejectRaw) => {
    let written = false;
    const reject = (error: unknown): void => rejectRaw(new ExchangeError(error, written));
    const options: RequestOptions = { method, headers, agent };
    if (signal) options.signal = signal;
    const req = request(url, options, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on("error", reject);
      res.on("aborted", () => reject(Object.assign(new Error("response aborted"), { code: "ECONNRESET" })));
    });
    req.on("finish", () => {
      written = true;
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The transport: signs, sends with the caller's AbortSignal, records failures for the adapter. */
export class RecordingHttpClient implements HttpClient {
  private readonly signer: DefaultRequestSigner;
  constructor(provider: AuthenticationDetailsProvider) {
    this.signer = new DefaultRequestSigner(provider);
  }

  async send(req: HttpRequest): Promise<Response> {
    const slot = calls.getStore();
    const body: string | undefined =
      typeof req.body === "string" && req.body.length > 0 ? req.body : undefined;
    try {
      await this.signer.signHttpRequest({ method: req.method, headers: req.headers, uri: req.uri, body });
    } catch (error) {
      if (!slot) throw error;
      slot.failure = {
        status: 401,
        serviceCode: "SigningFailed",
        message: scrubSecrets(describeThrown(error)),
        opcRequestId: undefined,
        retryAfterMs: undefined,
      };
      return NEUTRAL();
    }
    const headers: Record<string, string> = {};
    req.headers.forEach((value, name) => {
      headers[name] = value;
    });
    let answer: RawAnswer;
    try {
      answer = await exchange(req.method, req.uri, headers, body, slot?.signal);
    } catch (error) {
      const cause = error instanceof ExchangeError ? error.cause : error;
      if (!slot) throw cause;
      slot.networkError = cause;
      slot.networkErrorAfterWrite = !(error instanceof ExchangeError) || error.written;
      return NEUTRAL();
    }
    if ((answer.status >= 200 && answer.status < 300) || !slot) {
      return sdkResponse(answer.status, answer.text, answer.headers);
    }
    let serviceCode: string | undefined;
    let message = answer.text.slice(0, 300) || `HTTP ${answer.status}`;
    try {
      const parsed: unknown = JSON.parse(answer.text);
      if (parsed && typeof parsed === "object") {
        const p = parsed as { code?: unknown; message?: unknown };
        if (typeof p.code === "string") serviceCode = p.code;
        if (typeof p.message === "string") message = p.message;
      }
    } catch {
      // not JSON: keep the text
    }
    const header = (name: string): string | undefined => {
      const v = answer.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    slot.failure = {
      status: answer.status,
      serviceCode,
      message,
      opcRequestId: header("opc-request-id"),
      retryAfterMs: parseRetryAfter(header("retry-after") ?? null),
    };
    return NEUTRAL();
  }
}

/**
 * Runs one SDK call with its transport slot: a failure the transport recorded (or a network error)
 * becomes a ComputeError in the closed set; every adapter (every kind) calls OCI through this.
 */
export async function callOci<T>(
  signal: AbortSignal | undefined,
  authMode: AuthMode | undefined,
  run: () => Promise<T>,
): Promise<T> {
  const slot: CallSlot = { signal };
  let value: T;
  try {
    value = await calls.run(slot, run);
  } catch (error) {
    if (error instanceof PowerError) throw error;
    if (slot.failure) throw mapFailure(slot.failure, authMode);
    if (slot.networkError !== undefined)
      throw mapNetworkError(slot.networkError, signal?.aborted ?? false, slot.networkErrorAfterWrite);
    const message = error instanceof Error ? error.message : (errorCode(error) ?? "unknown error");
    throw new ComputeError("ServiceError", `the OCI SDK failed: ${message}`.slice(0, 300), {
      transient: false,
    });
  }
  if (slot.failure) throw mapFailure(slot.failure, authMode);
  if (slot.networkError !== undefined)
    throw mapNetworkError(slot.networkError, signal?.aborted ?? false, slot.networkErrorAfterWrite);
  return value;
}

function toView(instance: Instance): InstanceView {
  const view: InstanceView = {
    id: instance.id,
    compartmentId: instance.compartmentId,
    displayName: instance.displayName ?? "",
    lifecycleState: String(instance.lifecycleState),
    freeformTags: instance.freeformTags ?? {},
    definedTags: (instance.definedTags ?? {}) as Record<string, Record<string, unknown>>,
  };
  if (instance.shape) view.shape = instance.shape;
  return view;
}

/** ListShapes across all pages (one entry per shape and availability domain), mapped for the port. */
export async function listShapesPaged(
  fetchPage: (page: string | undefined) => Promise<{ items?: Shape[] | null; opcNextPage?: string }>,
  compartmentId: string,
): Promise<ShapeInfo[]> {
  const out: ShapeInfo[] = [];
  let page: string | undefined;
  for (let n = 0; n < MAX_PAGES; n++) {
    const res = await fetchPage(page);
    for (const item of res.items ?? []) {
      if (typeof item?.shape !== "string") continue;
      const billed = item.isBilledForStoppedInstance;
      out.push({
        shape: item.shape,
        isBilledForStoppedInstance: typeof billed === "boolean" ? billed : undefined,
      });
    }
    page = res.opcNextPage;
    if (!page) return out;
  }
  throw new ComputeError(
    "ServiceError",
    `listing the shapes of ${compartmentId} returned more than ${MAX_PAGES} pages`,
    {
      transient: false,
    },
  );
}

export class OciCompute implements ComputePort, ShapesPort {
  constructor(
    private readonly client: ComputeClient,
    private readonly authMode?: AuthMode,
  ) {}

  private async call<T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    return await callOci(signal, this.authMode, run);
  }

  private static instanceOf(value: Instance | undefined | null, what: string): Instance {
    if (!value || typeof value.id !== "string") {
      throw new ComputeError("ServiceError", `OCI answered ${what} without an instance`, { transient: true });
    }
    return value;
  }

  async getInstance(id: string, signal?: AbortSignal): Promise<InstanceView> {
    const res = await this.call(signal, () => this.client.getInstance({ instanceId: id }));
    return toView(OciCompute.instanceOf(res.instance, "GetInstance"));
  }

  async listInstances(compartmentId: string, signal?: AbortSignal): Promise<InstanceView[]> {
    const out: InstanceView[] = [];
    let page: string | undefined;
    for (let n = 0; n < MAX_PAGES; n++) {
      const res = await this.call(signal, () =>
        this.client.listInstances(
          page ? { compartmentId, limit: PAGE_LIMIT, page } : { compartmentId, limit: PAGE_LIMIT },
        ),
      );
      for (const item of res.items ?? []) out.push(toView(item));
      page = res.opcNextPage;
      if (!page) return out;
    }
    throw new ComputeError("ServiceError", `listing ${compartmentId} returned more than ${MAX_PAGES} pages`, {
      transient: false,
    });
  }

  async listShapes(compartmentId: string, signal?: AbortSignal): Promise<ShapeInfo[]> {
    return await listShapesPaged(
      (page) =>
        this.call(signal, () =>
          this.client.listShapes(
            page ? { compartmentId, limit: PAGE_LIMIT, page } : { compartmentId, limit: PAGE_LIMIT },
          ),
        ),
      compartmentId,
    );
  }

  async instanceAction(
    id: string,
    action: PowerAction,
    retryToken: string,
    signal?: AbortSignal,
  ): Promise<InstanceView> {
    const res = await this.call(signal, () =>
      this.client.instanceAction({ instanceId: id, action, opcRetryToken: retryToken }),
    );
    return toView(OciCompute.instanceOf(res.instance, "InstanceAction"));
  }
}

/** A client whose endpoint can be set from config or follows the region (every OCI SDK client). */
export interface EndpointClient {
  endpoint: string;
  region: unknown;
}

/**
 * Points a client at its region (the one given, else the credentials'), then at the configured URL if
 * there is one (src/endpoints.ts: OCI_ENDPOINT_TEMPLATE, then the service's keys, then OCI_ENDPOINT);
 * without one the SDK's endpoint for the region stays.
 */
export function setEndpoint(
  client: EndpointClient,
  provider: AuthenticationDetailsProvider,
  env: Env,
  keys: readonly string[],
  service: string,
  region?: Region,
): void {
  const target = region ?? (isRegionProvider(provider) ? provider.getRegion() : undefined);
  if (target) client.region = target;
  const configured = configuredEndpoint(env, keys, target?.regionId ?? "");
  if (configured) {
    client.endpoint = configured.url;
  } else if (!client.endpoint) {
    throw new PowerError(
      "InvalidConfiguration",
      `no ${service} endpoint: the credentials carry no region; set ${[...keys, "OCI_ENDPOINT"].join(" or ")} or a region`,
    );
  }
}

/**
 * The Compute client for a provider: signed by our transport, its endpoint derived from the region
 * (https://iaas.<region>.<realm domain>, by oci-common's Region/Realm tables) unless configured
 * (src/endpoints.ts). The endpoint getter still holds a template ("{dualStack?…}") the SDK resolves
 * per request, so test/build/endpoints.test.ts captures the URL a request goes to through `httpClient`.
 */
export function createComputeClient(
  provider: AuthenticationDetailsProvider,
  env: Env,
  httpClient: HttpClient = new RecordingHttpClient(provider),
  region?: Region,
): ComputeClient {
  // The SDK accepts a provider or a transport; ours signs with the provider, so give the region by hand.
  const client = new ComputeClient({ httpClient });
  setEndpoint(client, provider, env, ["OCI_COMPUTE_ENDPOINT"], "Compute", region);
  return client;
}

/** One region's port over every kind: instances here, the other kinds' clients loaded on first use. */
function regionPort(
  provider: AuthenticationDetailsProvider,
  mode: AuthMode,
  env: Env,
  region: Region | undefined,
): KindRouter & ShapesPort {
  const instances = new OciCompute(createComputeClient(provider, env, undefined, region), mode);
  const kinds = async () => await import("./oci-kinds.js");
  const context = { provider, mode, env, ...(region ? { region } : {}) };
  const router = new KindRouter(instances, {
    instance_pool: async () => (await kinds()).createInstancePools(context),
    node_pool: async () => (await kinds()).createNodePools(context),
    container_instance: async () => (await kinds()).createContainerInstances(context),
  });
  // Shapes are instances' only (billing-aware stops): the router passes ListShapes to them.
  return Object.assign(router, {
    listShapes: (compartmentId: string, signal?: AbortSignal) => instances.listShapes(compartmentId, signal),
  });
}

/** Builds the auth provider and the home region's port: once per process (the handler caches the promise). */
export async function createOciCompute(
  env: Env,
): Promise<{ compute: ComputePort & ShapesPort; regional: RegionalCompute; authMode: string }> {
  const { provider, mode, region } = await sharedAuthProvider(env);
  const compute = regionPort(provider, mode, env, region);
  const { createRegionalCompute } = await import("./oci-regions.js");
  const regional = createRegionalCompute(
    { provider, mode, env, home: region, makePort: (r) => regionPort(provider, mode, env, r) },
    compute,
  );
  return { compute, regional, authMode: mode };
}

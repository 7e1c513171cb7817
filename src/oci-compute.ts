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
  type AuthenticationDetailsProvider,
  DefaultRequestSigner,
  type HttpClient,
  type HttpRequest,
  isRegionProvider,
} from "oci-common";
import { ComputeClient } from "oci-core/lib/client.js";
import type { Instance } from "oci-core/lib/model/instance.js";
import { createAuthProvider, type Env } from "./auth.js";
import type { ComputePort, InstanceView, PowerAction } from "./compute.js";
import { ComputeError, PowerError } from "./errors.js";

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
export function mapFailure(f: Failure): ComputeError {
  const base = { status: f.status, opcRequestId: f.opcRequestId, serviceCode: f.serviceCode };
  const detail = `${f.serviceCode ?? "HTTP"} ${f.status}: ${f.message}`.slice(0, 300);
  if (f.status === 429) {
    return new ComputeError("TooManyRequests", `OCI throttled the request (${detail})`, {
      ...base,
      transient: true,
      retryAfterMs: f.retryAfterMs,
    });
  }
  if (f.status === 401) {
    return new ComputeError(
      "AuthenticationFailed",
      `OCI did not accept the function's credentials (${detail}); check the principal's token and key`,
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
export function mapNetworkError(error: unknown, aborted: boolean): ComputeError {
  const code = errorCode(error);
  if (aborted) {
    return new ComputeError("NetworkError", "no answer from OCI in time (request timed out)", {
      transient: true,
      outcomeUnknown: true,
    });
  }
  const notSent = code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN";
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

const NEUTRAL = (): Response =>
  new Response("null", { status: 200, headers: { "content-type": "application/json" } });

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
        message: `the request could not be signed (${error instanceof Error ? error.message : "unknown reason"})`,
        opcRequestId: undefined,
        retryAfterMs: undefined,
      };
      return NEUTRAL();
    }
    let response: Response;
    try {
      const init: RequestInit = { method: req.method, headers: req.headers };
      if (body !== undefined) init.body = body;
      if (slot?.signal) init.signal = slot.signal;
      response = await fetch(req.uri, init);
    } catch (error) {
      if (!slot) throw error;
      slot.networkError = error;
      return NEUTRAL();
    }
    if (response.ok || !slot) return response;
    let text = "";
    try {
      text = await response.text();
    } catch (error) {
      slot.networkError = error;
      return NEUTRAL();
    }
    let serviceCode: string | undefined;
    let message = text.slice(0, 300) || response.statusText;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object") {
        const p = parsed as { code?: unknown; message?: unknown };
        if (typeof p.code === "string") serviceCode = p.code;
        if (typeof p.message === "string") message = p.message;
      }
    } catch {
      // not JSON: keep the text
    }
    slot.failure = {
      status: response.status,
      serviceCode,
      message,
      opcRequestId: response.headers.get("opc-request-id") ?? undefined,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
    };
    return NEUTRAL();
  }
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

export class OciCompute implements ComputePort {
  constructor(private readonly client: ComputeClient) {}

  private async call<T>(signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    const slot: CallSlot = { signal };
    let value: T;
    try {
      value = await calls.run(slot, run);
    } catch (error) {
      if (error instanceof PowerError) throw error;
      if (slot.failure) throw mapFailure(slot.failure);
      if (slot.networkError !== undefined) throw mapNetworkError(slot.networkError, signal?.aborted ?? false);
      const message = error instanceof Error ? error.message : (errorCode(error) ?? "unknown error");
      throw new ComputeError("ServiceError", `the OCI SDK failed: ${message}`.slice(0, 300), {
        transient: false,
      });
    }
    if (slot.failure) throw mapFailure(slot.failure);
    if (slot.networkError !== undefined) throw mapNetworkError(slot.networkError, signal?.aborted ?? false);
    return value;
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

/** Builds the auth provider and the client: once per process (the handler caches the promise). */
export async function createOciCompute(env: Env): Promise<{ compute: ComputePort; authMode: string }> {
  const { provider, mode } = await createAuthProvider(env);
  // The SDK accepts a provider or a transport; ours signs with the provider, so give the region by hand.
  const client = new ComputeClient({ httpClient: new RecordingHttpClient(provider) });
  if (isRegionProvider(provider)) {
    const region = provider.getRegion();
    if (region) client.region = region;
  }
  const endpoint = env.OCI_COMPUTE_ENDPOINT?.trim();
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new PowerError(
        "InvalidConfiguration",
        `configuration OCI_COMPUTE_ENDPOINT is not a URL: ${JSON.stringify(endpoint.slice(0, 80))}`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new PowerError(
        "InvalidConfiguration",
        "configuration OCI_COMPUTE_ENDPOINT must be an http(s) URL",
      );
    }
    client.endpoint = endpoint.replace(/\/+$/, "");
  } else if (!client.endpoint) {
    throw new PowerError(
      "InvalidConfiguration",
      "no Compute endpoint: the credentials carry no region; set OCI_COMPUTE_ENDPOINT or a region",
    );
  }
  return { compute: new OciCompute(client), authMode: mode };
}

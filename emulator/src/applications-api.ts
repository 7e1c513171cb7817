/**
 * The Functions Applications API (20181201, and 20260325 as the OCI CLI's Python SDK sends it):
 * ListApplications, GetApplication and ListFunctions, answered so that the real Fn CLI's lookup works
 * (`fn list apps`, `fn list functions <app>`, `fn invoke <app> <fn>`: ListApplications by name →
 * GetApplication → ListFunctions by name → GetFunction → invoke at `invokeEndpoint`). Also the
 * application store: the state file's `applications`, each function's application (its compartment's
 * default application when it names none), and the config every function of an application inherits.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { allows, type Principal } from "./auth.js";
import type { CallRecord } from "./calls.js";
import { invalidParameter, notFound, OciHttpError } from "./errors.js";
import { readBody, send } from "./http-util.js";
import type { ApplicationJson, FunctionJson } from "./model.js";
import { isOcid } from "./ocid.js";

type CallDraft = Omit<CallRecord, "seq" | "durationMs" | "status"> & { status?: number };

/** The display name of the application a function joins when it names none (one per compartment). */
export const DEFAULT_APP_NAME = "emulator-app";
/** ListApplications/ListFunctions: "1 is the minimum, 50 is the maximum. Default: 10" (API reference). */
const LIST_DEFAULT_LIMIT = 10;
const LIST_MAX_LIMIT = 50;
const LIFECYCLE_STATES = ["CREATING", "ACTIVE", "INACTIVE", "UPDATING", "DELETING", "DELETED", "FAILED"];
const SORT_FIELDS = { timecreated: "timeCreated", id: "id", displayname: "displayName" } as const;
type SortField = (typeof SORT_FIELDS)[keyof typeof SORT_FIELDS];
const ROUTE = /^\/(?:20181201|20260325)\/(?:applications(?:\/([^/]+))?|(functions))$/;

export class ApplicationStore {
  readonly #apps = new Map<string, ApplicationJson>();
  readonly #created = new Map<string, string>();

  constructor(readonly tenancyId: string) {}

  /** Parses every entry before registering any, so one bad entry leaves the store unchanged. */
  register(raws: readonly unknown[]): ApplicationJson[] {
    const apps = raws.map((raw, i) => parseApplication(raw, i));
    const seen = new Map<string, string>();
    for (const app of apps) {
      const key = `${app.compartmentId}|${app.displayName}`;
      const clash = seen.get(key) ?? this.#byName(app.compartmentId, app.displayName)?.id;
      if (clash !== undefined && clash !== app.id) {
        throw invalidParameter(
          `applications: ${app.id} and ${clash} are both named "${app.displayName}" in ${app.compartmentId}; display names are unique per compartment.`,
        );
      }
      seen.set(key, app.id);
    }
    for (const app of apps) this.#put(app);
    return apps;
  }

  get(id: string): ApplicationJson | undefined {
    return this.#apps.get(id);
  }

  all(): ApplicationJson[] {
    return [...this.#apps.values()];
  }

  created(id: string): string {
    return this.#created.get(id) ?? new Date(0).toISOString();
  }

  /**
   * The application a function belongs to: the one its `applicationId` names (refused, naming it, when
   * there is none or its compartment differs), else its compartment's default application.
   */
  resolve(fn: FunctionJson): ApplicationJson {
    if (fn.applicationId === undefined) return this.#defaultFor(fn.compartmentId ?? this.tenancyId);
    const app = this.#apps.get(fn.applicationId);
    if (!app) {
      throw invalidParameter(
        `function ${fn.displayName} (${fn.id}): applicationId ${fn.applicationId} names no application; add it to "applications".`,
      );
    }
    if (fn.compartmentId !== undefined && fn.compartmentId !== app.compartmentId) {
      throw invalidParameter(
        `function ${fn.displayName} (${fn.id}): compartmentId ${fn.compartmentId} differs from its application's (${app.compartmentId}); a function lives in its application's compartment.`,
      );
    }
    return app;
  }

  #defaultFor(compartmentId: string): ApplicationJson {
    const existing = this.#byName(compartmentId, DEFAULT_APP_NAME);
    if (existing) return existing;
    const digest = createHash("sha1").update(compartmentId).digest("hex");
    const app = { id: `ocid1.fnapp.oc1.iad.default${digest}`, compartmentId, displayName: DEFAULT_APP_NAME };
    this.#put(app);
    return app;
  }

  #byName(compartmentId: string, displayName: string): ApplicationJson | undefined {
    return this.all().find((a) => a.compartmentId === compartmentId && a.displayName === displayName);
  }

  #put(app: ApplicationJson): void {
    this.#apps.set(app.id, app);
    if (!this.#created.has(app.id)) this.#created.set(app.id, new Date().toISOString());
  }
}

export function parseApplication(raw: unknown, index = 0): ApplicationJson {
  const where = `applications[${index}]`;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw invalidParameter(`${where} must be a JSON object.`);
  }
  const a = raw as Record<string, unknown>;
  if (typeof a.id !== "string" || !isOcid(a.id, "fnapp")) {
    throw invalidParameter(`${where}.id must be an application OCID (ocid1.fnapp.…).`);
  }
  if (typeof a.compartmentId !== "string" || !isOcid(a.compartmentId)) {
    throw invalidParameter(`${where}.compartmentId must be an OCID.`);
  }
  if (typeof a.displayName !== "string" || !/^[A-Za-z0-9_-]{1,255}$/.test(a.displayName)) {
    throw invalidParameter(`${where}.displayName must be 1-255 letters, digits, '-' or '_'.`);
  }
  const config = a.config ?? {};
  if (!isStringRecord(config)) throw invalidParameter(`${where}.config must be an object of strings.`);
  return { id: a.id, compartmentId: a.compartmentId, displayName: a.displayName, config };
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return (
    v !== null &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    Object.values(v).every((s) => typeof s === "string")
  );
}

/** What the Applications API needs from the Functions service. */
export interface FunctionsView {
  list(): FunctionJson[];
  /** The SDK `Function` model of a function (what GetFunction answers). */
  model(fn: FunctionJson): Record<string, unknown>;
}

interface ListQuery {
  limit: number;
  offset: number;
  sortBy: SortField;
  descending: boolean;
  lifecycleState?: string;
  displayName?: string;
  id?: string;
}

export class ApplicationsApi {
  constructor(
    readonly apps: ApplicationStore,
    readonly functions: FunctionsView,
  ) {}

  static matches(path: string): boolean {
    return ROUTE.test(path);
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    query: URLSearchParams,
    headers: Record<string, string>,
    call: CallDraft,
    authenticate: (body: Buffer) => Promise<Principal>,
  ): Promise<void> {
    const m = ROUTE.exec(path);
    const appId = m?.[1] !== undefined ? decodeURIComponent(m[1]) : undefined;
    const isFunctions = m?.[2] !== undefined;
    call.operation =
      method !== "GET"
        ? "Unknown"
        : isFunctions
          ? "ListFunctions"
          : appId !== undefined
            ? "GetApplication"
            : "ListApplications";
    const principal = await authenticate(await readBody(req));
    if (call.operation === "Unknown") {
      throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No route for ${method} ${path}.`);
    }
    if (call.operation === "GetApplication" && appId !== undefined) {
      const app = this.#visible(appId, principal, "application");
      call.status = 200;
      send(res, 200, this.#application(app), { ...headers, etag: etagOf(app) });
      return;
    }
    const page = isFunctions
      ? this.#listFunctions(query, principal)
      : this.#listApplications(query, principal);
    call.status = 200;
    send(res, 200, page.items, {
      ...headers,
      ...(page.next !== undefined ? { "opc-next-page": `p${page.next}` } : {}),
    });
  }

  #visible(id: string, principal: Principal, what: string): ApplicationJson {
    if (!isOcid(id, "fnapp")) throw invalidParameter(`Malformed ${what} OCID: ${id.slice(0, 300)}`);
    const app = this.apps.get(id);
    if (!app || !allows(principal, app.compartmentId)) throw notFound(`application ${id}`);
    return app;
  }

  #listApplications(query: URLSearchParams, principal: Principal) {
    const compartmentId = required(query, "compartmentId");
    if (!isOcid(compartmentId))
      throw invalidParameter(`Malformed compartmentId: ${compartmentId.slice(0, 300)}`);
    if (!allows(principal, compartmentId)) throw notFound(`compartment ${compartmentId}`);
    const items = this.apps
      .all()
      .filter((a) => a.compartmentId === compartmentId)
      .map((a) => this.#summary(a));
    return pageOf(items, parseListQuery(query));
  }

  #listFunctions(query: URLSearchParams, principal: Principal) {
    const app = this.#visible(required(query, "applicationId"), principal, "applicationId");
    const items = this.functions
      .list()
      .filter((f) => f.applicationId === app.id)
      .map((f) => functionSummary(this.functions.model(f)));
    return pageOf(items, parseListQuery(query));
  }

  #summary(app: ApplicationJson): Record<string, unknown> {
    const created = this.apps.created(app.id);
    return {
      id: app.id,
      displayName: app.displayName,
      compartmentId: app.compartmentId,
      lifecycleState: "ACTIVE",
      subnetIds: [],
      networkSecurityGroupIds: [],
      shape: "GENERIC_X86",
      freeformTags: {},
      definedTags: {},
      timeCreated: created,
      timeUpdated: created,
    };
  }

  #application(app: ApplicationJson): Record<string, unknown> {
    return { ...this.#summary(app), config: app.config ?? {} };
  }
}

/** A FunctionSummary: the Function model without its config. */
function functionSummary(model: Record<string, unknown>): Record<string, unknown> {
  const { config: _config, ...summary } = model;
  return summary;
}

function etagOf(value: unknown): string {
  return createHash("sha1").update(JSON.stringify(value)).digest("hex");
}

function required(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (value === null || value === "") throw new OciHttpError(400, "MissingParameter", `${name} is required.`);
  return value;
}

function parseListQuery(query: URLSearchParams): ListQuery {
  const limitRaw = query.get("limit");
  const limit = limitRaw === null ? LIST_DEFAULT_LIMIT : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1) throw invalidParameter("limit must be a positive integer.");
  const pageRaw = query.get("page");
  const pageMatch = pageRaw === null ? undefined : /^p(\d{1,9})$/.exec(pageRaw);
  if (pageMatch === null) throw invalidParameter("page is not a page token this service issued.");
  const sortRaw = query.get("sortBy");
  const sortBy =
    sortRaw === null ? "displayName" : SORT_FIELDS[sortRaw.toLowerCase() as keyof typeof SORT_FIELDS];
  if (sortBy === undefined) throw invalidParameter("sortBy must be one of timeCreated, id, displayName.");
  const order = query.get("sortOrder") ?? "ASC";
  if (order !== "ASC" && order !== "DESC") throw invalidParameter("sortOrder must be ASC or DESC.");
  const state = query.get("lifecycleState")?.toUpperCase();
  if (state !== undefined && !LIFECYCLE_STATES.includes(state)) {
    throw invalidParameter(`lifecycleState must be one of ${LIFECYCLE_STATES.join(", ")}.`);
  }
  const out: ListQuery = {
    limit: Math.min(limit, LIST_MAX_LIMIT),
    offset: pageMatch ? Number(pageMatch[1]) : 0,
    sortBy,
    descending: order === "DESC",
  };
  if (state !== undefined) out.lifecycleState = state;
  for (const key of ["displayName", "id"] as const) {
    const v = query.get(key);
    if (v !== null) out[key] = v;
  }
  return out;
}

/** Filters, sorts (ties broken by id, so pages are stable) and cuts one page. */
function pageOf(
  all: Array<Record<string, unknown>>,
  q: ListQuery,
): { items: Array<Record<string, unknown>>; next?: number } {
  const matching = all.filter(
    (item) =>
      (q.lifecycleState === undefined || item.lifecycleState === q.lifecycleState) &&
      (q.displayName === undefined || item.displayName === q.displayName) &&
      (q.id === undefined || item.id === q.id),
  );
  const sign = q.descending ? -1 : 1;
  matching.sort(
    (a, b) =>
      sign * String(a[q.sortBy]).localeCompare(String(b[q.sortBy])) ||
      String(a.id).localeCompare(String(b.id)),
  );
  const items = matching.slice(q.offset, q.offset + q.limit);
  const end = q.offset + items.length;
  return end < matching.length ? { items, next: end } : { items };
}

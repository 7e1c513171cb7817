/** The admin API under /_emulator/ (no auth, loopback only). Routes are listed in README.md ("The local OCI emulator"). */
import { createPublicKey } from "node:crypto";
import type { Authenticator } from "./auth.js";
import { fingerprintOf, newRsaKeyPair } from "./auth.js";
import type { CallLog } from "./calls.js";
import type { ContainerInstances } from "./container-instances.js";
import { invalidParameter, OciHttpError } from "./errors.js";
import type { FaultInjector } from "./faults.js";
import { parseFaults } from "./faults.js";
import type { FunctionsService } from "./functions-api.js";
import { parseJsonObject } from "./http-util.js";
import type { InstancePools } from "./instance-pools.js";
import type { ActionPlanContext, InstanceStore } from "./instances.js";
import type { EmulatorState } from "./model.js";
import { INSTANCE_ACTIONS, type InstanceJson, type Timings } from "./model.js";
import type { NodePools } from "./node-pools.js";
import { isOcid, newOcid } from "./ocid.js";
import type { InstanceIdentities } from "./principals.js";
import { mintResourcePrincipal } from "./principals.js";
import { ocidIn } from "./regions.js";
import { parseShapes, type ShapeJson } from "./shapes.js";
import type { ResourceJson, TrackedStore } from "./tracked.js";

export interface AdminAnswer {
  status: number;
  body: unknown;
}

const ok = (body: unknown): AdminAnswer => ({ status: 200, body });

function optionalStringArray(v: unknown, name: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
    throw invalidParameter(`${name} must be a list of strings.`);
  }
  return v as string[];
}

function optionalString(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw invalidParameter(`${name} must be a string.`);
  return v;
}

/**
 * What the admin API acts on: one served region's parts (its instances, faults, kinds, shapes) and
 * the shared rest. Declared here (the emulator builds one per request) so that admin-api.ts does not
 * import emulator.ts, which imports this file.
 */
export interface AdminTarget {
  /** The region the request addressed (the default one when unprefixed). */
  readonly region: string;
  readonly tenancyId: string;
  readonly timings: Timings;
  readonly store: InstanceStore;
  readonly faults: FaultInjector;
  readonly calls: CallLog;
  /** Calls, stats and their deletion concern this region only; undefined: every region. */
  readonly callsRegion: string | undefined;
  readonly auth: Authenticator;
  readonly identities: InstanceIdentities;
  readonly functions: FunctionsService;
  readonly instancePools: InstancePools;
  readonly nodePools: NodePools;
  readonly containerInstances: ContainerInstances;
  readonly url: string;
  /** The ListShapes catalogue, replaced by PUT /_emulator/shapes. */
  shapes: ShapeJson[];
  planContext(instanceId: string): ActionPlanContext;
  snapshot(): EmulatorState & { timings: Timings };
  regions(): { default: string; regions: Array<{ name: string; key: string }> };
  /** Serve (or reseed) a region from state-file fields; a 400 names an unknown region. */
  addRegion(name: unknown, state: Record<string, unknown>): { name: string; key: string };
}

/** Durations and the time scale must be finite and not negative (start state and admin updates). */
export function validateTimings(t: Timings): void {
  if (!Number.isFinite(t.timeScale) || t.timeScale < 0)
    throw invalidParameter("timeScale must be a number >= 0.");
  for (const a of INSTANCE_ACTIONS) {
    const d = t.durationsMs[a];
    if (!Number.isFinite(d) || d < 0) throw invalidParameter(`durationsMs.${a} must be a number >= 0.`);
  }
}

/** What one admin route gets: the target, the query and the body (parsed on demand). */
interface AdminRequest {
  emu: AdminTarget;
  query: URLSearchParams;
  json: () => Record<string, unknown>;
}

type AdminRoute = (r: AdminRequest) => AdminAnswer | Promise<AdminAnswer>;

/** Exact routes by `METHOD /path` (trailing slashes ignored); the id-carrying ones follow in handleAdmin. */
const ROUTES: Record<string, AdminRoute> = {
  "GET /_emulator/health": () => ok({ ok: true }),
  "GET /_emulator/state": ({ emu }) => ok(emu.snapshot()),
  "GET /_emulator/regions": ({ emu }) => ok(emu.regions()),
  "POST /_emulator/regions": ({ emu, json }) => {
    const { region, ...state } = json();
    return ok(emu.addRegion(region, state));
  },
  "GET /_emulator/instances": ({ emu }) => ok({ instances: emu.store.all(Date.now()) }),
  "POST /_emulator/instances": ({ emu, json }) => {
    const input = json().instances;
    if (!Array.isArray(input)) throw invalidParameter("instances must be a list.");
    return ok({ instances: emu.store.upsert(input as Array<Partial<InstanceJson>>, emu.planContext("")) });
  },
  "POST /_emulator/api-keys": ({ emu, json }) => ok(addApiKey(emu, json())),
  "POST /_emulator/api-keys/generate": async ({ emu, json }) => ok(await generateApiKey(emu, json())),
  "POST /_emulator/principals/resource": async ({ emu, json }) => ok(await resourcePrincipal(emu, json())),
  "POST /_emulator/principals/instance": async ({ emu, json }) => ok(await instancePrincipal(emu, json())),
  "PUT /_emulator/faults": ({ emu, json }) => {
    emu.faults.set(parseFaults(json()));
    return ok(emu.faults.current);
  },
  "GET /_emulator/faults": ({ emu }) => ok(emu.faults.current),
  "GET /_emulator/timings": ({ emu }) => ok(emu.timings),
  "PUT /_emulator/timings": ({ emu, json }) => ok(setTimings(emu, json())),
  "GET /_emulator/calls": ({ emu, query }) => {
    const since = Number(query.get("since") ?? 0);
    if (!Number.isFinite(since)) throw invalidParameter("since must be a number.");
    return ok(emu.calls.since(since, emu.callsRegion));
  },
  "DELETE /_emulator/calls": ({ emu }) => {
    emu.calls.clear(emu.callsRegion);
    return ok({ ok: true });
  },
  "GET /_emulator/stats": ({ emu }) => ok(emu.calls.stats(emu.callsRegion)),
  "GET /_emulator/applications": ({ emu }) => ok({ applications: emu.functions.applications.all() }),
  "POST /_emulator/applications": ({ emu, json }) => {
    const input = json().applications;
    if (!Array.isArray(input)) throw invalidParameter("applications must be a list.");
    return ok({ applications: emu.functions.registerApplications(input) });
  },
  "GET /_emulator/shapes": ({ emu }) => ok({ shapes: emu.shapes }),
  "PUT /_emulator/shapes": ({ emu, json }) => {
    emu.shapes = parseShapes(json().shapes);
    return ok({ shapes: emu.shapes });
  },
  "GET /_emulator/functions": ({ emu }) => ok({ functions: emu.functions.list() }),
  "POST /_emulator/functions": ({ emu, json }) => {
    const input = json().functions;
    if (!Array.isArray(input)) throw invalidParameter("functions must be a list.");
    return ok({ functions: emu.functions.register(input) });
  },
};

export async function handleAdmin(
  emu: AdminTarget,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Buffer,
): Promise<AdminAnswer> {
  const json = () => (body.length === 0 ? {} : parseJsonObject(body));
  const route = ROUTES[`${method} ${path.replace(/\/+$/, "")}`];
  if (route) return await route({ emu, query, json });
  const kinds = kindAdmin(emu, method, path, json);
  if (kinds) return kinds;
  const out = /^\/_emulator\/functions\/([^/]+)\/output$/.exec(path);
  if (out?.[1] && method === "GET") {
    return ok({ output: (await emu.functions.output(decodeURIComponent(out[1]))) ?? "" });
  }
  const m = /^\/_emulator\/instances\/([^/]+)$/.exec(path);
  if (m?.[1]) {
    const id = decodeURIComponent(m[1]);
    if (method === "GET") {
      const found = emu.store.get(id, Date.now());
      if (!found) throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No instance ${id}.`);
      return ok({ ...found.instance, stateHistory: found.history });
    }
    if (method === "PATCH") {
      const patched = emu.store.patch(id, json() as Partial<InstanceJson>, emu.planContext(id));
      if (!patched) throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No instance ${id}.`);
      return ok(patched);
    }
  }
  throw new OciHttpError(404, "NotFound", `No admin route ${method} ${path}.`);
}

function addApiKey(emu: AdminTarget, b: Record<string, unknown>) {
  if (typeof b.keyId !== "string" || b.keyId.split("/").length !== 3) {
    throw invalidParameter("keyId must be tenancy/user/fingerprint.");
  }
  if (typeof b.publicKeyPem !== "string") throw invalidParameter("publicKeyPem is required.");
  try {
    createPublicKey(b.publicKeyPem);
  } catch {
    throw invalidParameter("publicKeyPem is not a PEM public key.");
  }
  const compartments = optionalStringArray(b.compartments, "compartments");
  const key = { keyId: b.keyId, publicKeyPem: b.publicKeyPem, ...(compartments ? { compartments } : {}) };
  emu.auth.registerApiKey(key);
  return key;
}

/** Convenience for tests and local runs: a fresh key pair, registered, private key returned. */
async function generateApiKey(emu: AdminTarget, b: Record<string, unknown>) {
  const tenancyId = optionalString(b.tenancyId, "tenancyId") ?? emu.tenancyId;
  const userId = optionalString(b.userId, "userId") ?? newOcid("user");
  const compartments = optionalStringArray(b.compartments, "compartments");
  const pair = await newRsaKeyPair();
  const fingerprint = fingerprintOf(pair.publicKeyPem);
  const keyId = `${tenancyId}/${userId}/${fingerprint}`;
  emu.auth.registerApiKey({
    keyId,
    publicKeyPem: pair.publicKeyPem,
    ...(compartments ? { compartments } : {}),
  });
  return {
    keyId,
    tenancyId,
    userId,
    fingerprint,
    region: emu.region,
    publicKeyPem: pair.publicKeyPem,
    privateKeyPem: pair.privateKeyPem,
    ...(compartments ? { compartments } : {}),
  };
}

async function resourcePrincipal(emu: AdminTarget, b: Record<string, unknown>) {
  const compartmentId = optionalString(b.compartmentId, "compartmentId");
  if (!compartmentId || !isOcid(compartmentId)) throw invalidParameter("compartmentId must be an OCID.");
  const ttl = b.ttlSeconds;
  if (ttl !== undefined && (typeof ttl !== "number" || !Number.isFinite(ttl))) {
    throw invalidParameter("ttlSeconds must be a number.");
  }
  const tenancyId = optionalString(b.tenancyId, "tenancyId");
  const region = optionalString(b.region, "region");
  const principalId = optionalString(b.principalId, "principalId");
  const compartments = optionalStringArray(b.compartments, "compartments");
  return await mintResourcePrincipal(
    emu.auth,
    {
      compartmentId,
      ...(tenancyId ? { tenancyId } : {}),
      ...(region ? { region } : {}),
      ...(principalId ? { principalId } : {}),
      ...(compartments ? { compartments } : {}),
      ...(typeof ttl === "number" ? { ttlSeconds: ttl } : {}),
    },
    { tenancyId: emu.tenancyId, region: emu.region },
  );
}

async function instancePrincipal(emu: AdminTarget, b: Record<string, unknown>) {
  const instanceId = optionalString(b.instanceId, "instanceId") ?? ocidIn(emu.region, "instance");
  if (!isOcid(instanceId)) throw invalidParameter("instanceId must be an OCID.");
  const known = emu.store.get(instanceId, Date.now());
  const compartmentId =
    optionalString(b.compartmentId, "compartmentId") ?? known?.instance.compartmentId ?? emu.tenancyId;
  const tenancyId = optionalString(b.tenancyId, "tenancyId") ?? emu.tenancyId;
  const compartments = optionalStringArray(b.compartments, "compartments");
  await emu.identities.issue(instanceId, compartmentId, tenancyId, compartments);
  return {
    principalId: instanceId,
    tenancyId,
    compartmentId,
    metadataBaseUrl: `${emu.url}/opc/v2/`,
    federationEndpoint: emu.url,
  };
}

function setTimings(emu: AdminTarget, b: Record<string, unknown>): Timings {
  const next: Timings = structuredClone(emu.timings);
  if (b.timeScale !== undefined) {
    if (typeof b.timeScale !== "number") throw invalidParameter("timeScale must be a number.");
    next.timeScale = b.timeScale;
  }
  if (b.durationsMs !== undefined) {
    const d = b.durationsMs;
    if (d === null || typeof d !== "object" || Array.isArray(d))
      throw invalidParameter("durationsMs must be an object.");
    for (const [k, v] of Object.entries(d)) {
      if (!INSTANCE_ACTIONS.includes(k as (typeof INSTANCE_ACTIONS)[number])) {
        throw invalidParameter(`Unknown durationsMs key: ${k}`);
      }
      if (typeof v !== "number") throw invalidParameter(`durationsMs.${k} must be a number.`);
      next.durationsMs[k as (typeof INSTANCE_ACTIONS)[number]] = v;
    }
  }
  validateTimings(next);
  emu.timings.timeScale = next.timeScale;
  emu.timings.durationsMs = next.durationsMs;
  return emu.timings;
}

interface KindAdmin {
  /** The key of the list in request and response bodies (the state-file key). */
  key: string;
  list(now: number): unknown[];
  upsert(items: unknown[], now: number): unknown[];
  get(id: string, now: number): Record<string, unknown> | undefined;
}

function kinds(emu: AdminTarget): Record<string, KindAdmin> {
  const withHistory = <J extends ResourceJson>(
    store: TrackedStore<J>,
    describe: (j: J) => Record<string, unknown> = (j) => j,
  ) => {
    return (id: string, now: number) => {
      const record = store.get(id, now);
      return record ? { ...describe(record.json), stateHistory: record.history } : undefined;
    };
  };
  return {
    "instance-pools": {
      key: "instancePools",
      list: (now) => emu.instancePools.all(now),
      upsert: (items, now) => emu.instancePools.upsert(items, now),
      get: withHistory(emu.instancePools.store, (p) => emu.instancePools.describe(p)),
    },
    "node-pools": {
      key: "nodePools",
      list: (now) => emu.nodePools.store.all(now),
      upsert: (items, now) => emu.nodePools.upsert(items, now),
      get: withHistory(emu.nodePools.store),
    },
    "container-instances": {
      key: "containerInstances",
      list: (now) => emu.containerInstances.store.all(now),
      upsert: (items, now) => emu.containerInstances.upsert(items, now),
      get: withHistory(emu.containerInstances.store),
    },
  };
}

/** Seed and inspect instance pools, node pools, container instances and their work requests. */
function kindAdmin(
  emu: AdminTarget,
  method: string,
  path: string,
  json: () => Record<string, unknown>,
): AdminAnswer | undefined {
  const now = Date.now();
  if (method === "GET" && path.replace(/\/+$/, "") === "/_emulator/work-requests") {
    return ok({
      workRequests: [...emu.nodePools.workRequests.all(now), ...emu.containerInstances.workRequests.all(now)],
    });
  }
  const m = /^\/_emulator\/(instance-pools|node-pools|container-instances)(?:\/([^/]+))?\/?$/.exec(path);
  const kind = m?.[1] ? kinds(emu)[m[1]] : undefined;
  if (!m || !kind) return undefined;
  if (m[2] !== undefined) {
    const id = decodeURIComponent(m[2]);
    if (method !== "GET") return undefined;
    const found = kind.get(id, now);
    if (!found) throw new OciHttpError(404, "NotAuthorizedOrNotFound", `No ${m[1]} ${id}.`);
    return ok(found);
  }
  if (method === "GET") return ok({ [kind.key]: kind.list(now) });
  if (method !== "POST") return undefined;
  const input = json()[kind.key];
  if (!Array.isArray(input)) throw invalidParameter(`${kind.key} must be a list.`);
  return ok({ [kind.key]: kind.upsert(input, now) });
}

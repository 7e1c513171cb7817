/** Typed client of the emulator's admin API (`/_emulator/...`), one method per route. */
import type { CallRecord, CallStats } from "./calls.js";
import type { ContainerInstanceJson } from "./container-instances.js";
import type { InstancePoolJson } from "./instance-pools.js";
import type {
  ApiKeyJson,
  ApplicationJson,
  Durations,
  EmulatorState,
  Faults,
  FunctionJson,
  InstanceJson,
  StateChange,
  Timings,
} from "./model.js";
import type { NodePoolJson } from "./node-pools.js";
import type { ResourcePrincipalEnv, ResourcePrincipalRequest } from "./principals.js";
import type { StateEntry } from "./tracked.js";
import type { WorkRequestJson } from "./work-requests.js";

export type { ContainerInstanceJson } from "./container-instances.js";
export type { InstancePoolJson } from "./instance-pools.js";
export type { NodeJson, NodePoolJson } from "./node-pools.js";
export type { StateEntry } from "./tracked.js";
export type { WorkRequestJson } from "./work-requests.js";

/** An instance pool as the admin API shows it: with its member instance ids. */
export type InstancePoolView = InstancePoolJson & { instanceIds: string[] };
/** What the seeding routes accept: any subset of the kind's SDK fields (validated by the emulator). */
export type KindInput = Record<string, unknown>;
type WithHistory<J> = J & { stateHistory: StateEntry[] };

import type { ShapeJson } from "./shapes.js";

export type { CallRecord, CallStats } from "./calls.js";
export type {
  ApiKeyJson,
  ApplicationJson,
  Durations,
  EmulatorState,
  Faults,
  FunctionJson,
  InstanceJson,
  StateChange,
  Timings,
} from "./model.js";

/** What `addRegion` seeds: the state file's region fields, loosely typed (the emulator validates them). */
export interface RegionStateInput {
  instances?: ReadonlyArray<InstanceInput>;
  faults?: Faults;
  instancePools?: ReadonlyArray<KindInput>;
  nodePools?: ReadonlyArray<KindInput>;
  containerInstances?: ReadonlyArray<KindInput>;
  shapes?: ShapeJson[];
}

export type InstanceWithHistory = InstanceJson & { stateHistory: StateChange[] };

/**
 * What `putInstances`/`patchInstance` accept: any subset of the SDK Instance fields. Loosely typed on
 * purpose (an unknown lifecycleState or a bad OCID is answered 400 by the emulator, not rejected by tsc).
 */
export interface InstanceInput {
  id?: string;
  compartmentId?: string;
  displayName?: string;
  lifecycleState?: string;
  shape?: string;
  availabilityDomain?: string;
  region?: string;
  timeCreated?: string;
  faultDomain?: string;
  freeformTags?: Record<string, string>;
  definedTags?: Record<string, Record<string, unknown>>;
  systemTags?: Record<string, Record<string, unknown>>;
  metadata?: Record<string, string>;
}

export type { ResourcePrincipalEnv, ResourcePrincipalRequest } from "./principals.js";
export type { ShapeJson } from "./shapes.js";

export interface ResourcePrincipal {
  principalId: string;
  env: ResourcePrincipalEnv;
}

export interface InstancePrincipalRequest {
  instanceId?: string;
  compartmentId?: string;
  tenancyId?: string;
  compartments?: string[];
}

export interface InstancePrincipal {
  principalId: string;
  tenancyId: string;
  compartmentId: string;
  metadataBaseUrl: string;
  federationEndpoint: string;
}

export interface GeneratedApiKey {
  keyId: string;
  tenancyId: string;
  userId: string;
  fingerprint: string;
  region: string;
  publicKeyPem: string;
  privateKeyPem: string;
  compartments?: string[];
}

export type StateSnapshot = Required<Pick<EmulatorState, "region" | "tenancyId" | "timeScale" | "faults">> & {
  durationsMs: Durations;
  timings: Timings;
  instances: InstanceJson[];
  apiKeys: ApiKeyJson[];
  functions: FunctionJson[];
  instancePools: InstancePoolView[];
  nodePools: NodePoolJson[];
  containerInstances: ContainerInstanceJson[];
  applications: ApplicationJson[];
  shapes: ShapeJson[];
  /** Every served region but the default one, by name. */
  regions: Record<string, RegionSnapshot>;
};

/** One non-default region's part of the snapshot. */
export interface RegionSnapshot {
  faults: Faults;
  instances: InstanceJson[];
  instancePools: InstancePoolView[];
  nodePools: NodePoolJson[];
  containerInstances: ContainerInstanceJson[];
  shapes: ShapeJson[];
}

export class EmulatorAdminError extends Error {
  override readonly name = "EmulatorAdminError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `GET /_emulator/regions`: the default region and every served one with its OCID key (`phx`). */
export interface RegionsView {
  default: string;
  regions: Array<{ name: string; key: string }>;
}

/** Identity's `RegionSubscription`, as ListRegionSubscriptions answers it. */
export type { RegionSubscriptionJson } from "./identity-api.js";
/** A region's own state (the state file's `regions.<name>`): the default region's are the top-level fields. */
export type { RegionState } from "./model.js";

/**
 * One admin call: JSON in and out of `<base>/_emulator<path>`; a non-2xx answer throws
 * EmulatorAdminError with the emulator's code and message. Every admin client calls through this.
 */
export async function adminRequest<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${base}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const err = (parsed ?? {}) as { code?: string; message?: string };
    throw new EmulatorAdminError(
      res.status,
      err.code ?? "Unknown",
      `${method} ${path}: ${err.message ?? text}`,
    );
  }
  return parsed as T;
}

export class EmulatorAdmin {
  /** The emulator's URL (`http://127.0.0.1:PORT`), without any region prefix. */
  readonly baseUrl: string;
  /** The region this client's region-scoped routes act on; undefined: the default region (and all calls). */
  readonly region: string | undefined;

  constructor(baseUrl: string, region?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.region = region;
  }

  /**
   * The same API under `/<region>/_emulator`: instances, faults, shapes, kinds and work requests are
   * that region's; calls and stats only that region's; keys, principals, functions and timings shared.
   */
  forRegion(region: string): EmulatorAdmin {
    return new EmulatorAdmin(this.baseUrl, region);
  }

  regions(): Promise<RegionsView> {
    return this.#call("GET", "/regions");
  }

  /** Serve `region` (or reseed it: its instances, faults, kinds and shapes are replaced by `state`). */
  addRegion(region: string, state: RegionStateInput = {}): Promise<{ name: string; key: string }> {
    return this.#call("POST", "/regions", { ...state, region });
  }

  /** ListRegionSubscriptions answers `status` (400, 404, 429, 500, 503) for every call, or the next `count`; `{}` clears. */
  setIdentityFault(fault: {
    status?: number;
    count?: number;
  }): Promise<{ status?: number; remaining?: number }> {
    return this.#call("PUT", "/identity/faults", fault);
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const prefix = this.region === undefined ? "" : `/${encodeURIComponent(this.region)}`;
    return await adminRequest<T>(`${this.baseUrl}${prefix}`, method, path, body);
  }

  health(): Promise<{ ok: true }> {
    return this.#call("GET", "/health");
  }

  state(): Promise<StateSnapshot> {
    return this.#call("GET", "/state");
  }

  /** Upsert instances; missing fields get defaults. */
  async putInstances(instances: ReadonlyArray<InstanceInput>): Promise<InstanceJson[]> {
    return (await this.#call<{ instances: InstanceJson[] }>("POST", "/instances", { instances })).instances;
  }

  async listInstances(): Promise<InstanceJson[]> {
    return (await this.#call<{ instances: InstanceJson[] }>("GET", "/instances")).instances;
  }

  /** The instance as stored (no auth), with its `stateHistory`. */
  getInstance(id: string): Promise<InstanceWithHistory> {
    return this.#call("GET", `/instances/${encodeURIComponent(id)}`);
  }

  patchInstance(id: string, fields: InstanceInput): Promise<InstanceJson> {
    return this.#call("PATCH", `/instances/${encodeURIComponent(id)}`, fields);
  }

  addApiKey(key: ApiKeyJson): Promise<ApiKeyJson> {
    return this.#call("POST", "/api-keys", key);
  }

  /** A new RSA key pair, registered; the private key is returned for a client to sign with. */
  generateApiKey(
    opts: { tenancyId?: string; userId?: string; compartments?: string[] } = {},
  ): Promise<GeneratedApiKey> {
    return this.#call("POST", "/api-keys/generate", opts);
  }

  mintResourcePrincipal(req: ResourcePrincipalRequest): Promise<ResourcePrincipal> {
    return this.#call("POST", "/principals/resource", req);
  }

  /** Issue an instance principal; the metadata endpoints serve it from now on. */
  createInstancePrincipal(req: InstancePrincipalRequest = {}): Promise<InstancePrincipal> {
    return this.#call("POST", "/principals/instance", req);
  }

  /** Replace all faults ({} clears). */
  /** The ListShapes catalogue. */
  async getShapes(): Promise<ShapeJson[]> {
    return (await this.#call<{ shapes: ShapeJson[] }>("GET", "/shapes")).shapes;
  }

  /** Replace the ListShapes catalogue. */
  async putShapes(shapes: ShapeJson[]): Promise<ShapeJson[]> {
    return (await this.#call<{ shapes: ShapeJson[] }>("PUT", "/shapes", { shapes })).shapes;
  }

  setFaults(faults: Faults): Promise<Faults> {
    return this.#call("PUT", "/faults", faults);
  }

  getFaults(): Promise<Faults> {
    return this.#call("GET", "/faults");
  }

  setTimings(timings: { timeScale?: number; durationsMs?: Partial<Durations> }): Promise<Timings> {
    return this.#call("PUT", "/timings", timings);
  }

  getTimings(): Promise<Timings> {
    return this.#call("GET", "/timings");
  }

  calls(since = 0): Promise<{ calls: CallRecord[]; next: number }> {
    return this.#call("GET", `/calls?since=${since}`);
  }

  clearCalls(): Promise<{ ok: true }> {
    return this.#call("DELETE", "/calls");
  }

  stats(): Promise<CallStats> {
    return this.#call("GET", "/stats");
  }

  async registerFunctions(functions: FunctionJson[]): Promise<FunctionJson[]> {
    return (await this.#call<{ functions: FunctionJson[] }>("POST", "/functions", { functions })).functions;
  }

  /** The last lines the function's current process wrote (logs), "" when it has none. */
  async functionOutput(id: string): Promise<string> {
    return (await this.#call<{ output: string }>("GET", `/functions/${encodeURIComponent(id)}/output`))
      .output;
  }

  /** Upsert instance pools (`instanceIds` name members; missing members are created). */
  async putInstancePools(instancePools: ReadonlyArray<KindInput>): Promise<InstancePoolView[]> {
    return (
      await this.#call<{ instancePools: InstancePoolView[] }>("POST", "/instance-pools", { instancePools })
    ).instancePools;
  }

  async listInstancePools(): Promise<InstancePoolView[]> {
    return (await this.#call<{ instancePools: InstancePoolView[] }>("GET", "/instance-pools")).instancePools;
  }

  getInstancePool(id: string): Promise<WithHistory<InstancePoolView>> {
    return this.#call("GET", `/instance-pools/${encodeURIComponent(id)}`);
  }

  /** Upsert OKE node pools (`size` or `nodeConfigDetails.size` ACTIVE nodes). */
  async putNodePools(nodePools: ReadonlyArray<KindInput>): Promise<NodePoolJson[]> {
    return (await this.#call<{ nodePools: NodePoolJson[] }>("POST", "/node-pools", { nodePools })).nodePools;
  }

  async listNodePools(): Promise<NodePoolJson[]> {
    return (await this.#call<{ nodePools: NodePoolJson[] }>("GET", "/node-pools")).nodePools;
  }

  getNodePool(id: string): Promise<WithHistory<NodePoolJson>> {
    return this.#call("GET", `/node-pools/${encodeURIComponent(id)}`);
  }

  async putContainerInstances(
    containerInstances: ReadonlyArray<KindInput>,
  ): Promise<ContainerInstanceJson[]> {
    return (
      await this.#call<{ containerInstances: ContainerInstanceJson[] }>("POST", "/container-instances", {
        containerInstances,
      })
    ).containerInstances;
  }

  async listContainerInstances(): Promise<ContainerInstanceJson[]> {
    return (await this.#call<{ containerInstances: ContainerInstanceJson[] }>("GET", "/container-instances"))
      .containerInstances;
  }

  getContainerInstance(id: string): Promise<WithHistory<ContainerInstanceJson>> {
    return this.#call("GET", `/container-instances/${encodeURIComponent(id)}`);
  }

  /** Every work request of Container Engine and Container Instances, with its `status`. */
  async listWorkRequests(): Promise<WorkRequestJson[]> {
    return (await this.#call<{ workRequests: WorkRequestJson[] }>("GET", "/work-requests")).workRequests;
  }

  async listFunctions(): Promise<FunctionJson[]> {
    return (await this.#call<{ functions: FunctionJson[] }>("GET", "/functions")).functions;
  }

  /** Upsert by id; register an application before the functions that name it. */
  async registerApplications(applications: ApplicationJson[]): Promise<ApplicationJson[]> {
    return (await this.#call<{ applications: ApplicationJson[] }>("POST", "/applications", { applications }))
      .applications;
  }

  async listApplications(): Promise<ApplicationJson[]> {
    return (await this.#call<{ applications: ApplicationJson[] }>("GET", "/applications")).applications;
  }
}

/**
 * One profile of an OCI config file (the format the SDK and the OCI CLI read) for a generated key,
 * e.g. to point the CLI at the emulator. `fingerprint` overrides the key's (to present an unknown key).
 */
export function ociConfigProfile(
  key: GeneratedApiKey,
  keyFile: string,
  opts: { profile?: string; fingerprint?: string } = {},
): string {
  return [
    `[${opts.profile ?? "DEFAULT"}]`,
    `user=${key.userId}`,
    `fingerprint=${opts.fingerprint ?? key.fingerprint}`,
    `tenancy=${key.tenancyId}`,
    `region=${key.region}`,
    `key_file=${keyFile}`,
    "",
  ].join("\n");
}

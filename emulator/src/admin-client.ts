/** Typed client of the emulator's admin API (`/_emulator/...`), one method per route. */
import type { CallRecord, CallStats } from "./calls.js";
import type {
  ApiKeyJson,
  Durations,
  EmulatorState,
  Faults,
  FunctionJson,
  InstanceJson,
  StateChange,
  Timings,
} from "./model.js";
import type { ResourcePrincipalEnv, ResourcePrincipalRequest } from "./principals.js";
import type { ShapeJson } from "./shapes.js";

export type { CallRecord, CallStats } from "./calls.js";
export type {
  ApiKeyJson,
  Durations,
  EmulatorState,
  Faults,
  FunctionJson,
  InstanceJson,
  StateChange,
  Timings,
} from "./model.js";

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
  shapes: ShapeJson[];
};

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

export class EmulatorAdmin {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/_emulator${path}`, {
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

  async listFunctions(): Promise<FunctionJson[]> {
    return (await this.#call<{ functions: FunctionJson[] }>("GET", "/functions")).functions;
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

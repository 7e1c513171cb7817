/** The emulator's state file format and the shapes its admin API speaks. */

export type LifecycleState =
  | "MOVING"
  | "PROVISIONING"
  | "RUNNING"
  | "STARTING"
  | "STOPPING"
  | "STOPPED"
  | "CREATING_IMAGE"
  | "TERMINATING"
  | "TERMINATED";

export const LIFECYCLE_STATES: readonly LifecycleState[] = [
  "MOVING",
  "PROVISIONING",
  "RUNNING",
  "STARTING",
  "STOPPING",
  "STOPPED",
  "CREATING_IMAGE",
  "TERMINATING",
  "TERMINATED",
];

export type InstanceActionName = "START" | "STOP" | "SOFTSTOP" | "RESET" | "SOFTRESET";
export const INSTANCE_ACTIONS: readonly InstanceActionName[] = [
  "START",
  "STOP",
  "SOFTSTOP",
  "RESET",
  "SOFTRESET",
];

/** An Instance in the SDK model's field names (oci-core `models.Instance`), as JSON. */
export interface InstanceJson {
  id: string;
  compartmentId: string;
  displayName: string;
  lifecycleState: LifecycleState;
  shape: string;
  availabilityDomain: string;
  region: string;
  timeCreated: string;
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
  [field: string]: unknown;
}

export interface StateChange {
  state: LifecycleState;
  /** Epoch milliseconds at which the instance entered `state`. */
  at: number;
}

export interface ApiKeyJson {
  /** `tenancyOcid/userOcid/fingerprint`, exactly as the SDK sends it. */
  keyId: string;
  publicKeyPem: string;
  /** Compartments this key may see; absent = all. */
  compartments?: string[];
}

export interface FunctionJson {
  id: string;
  displayName: string;
  /** Path to the built bundle (`dist/func.js`), relative to the emulator's working directory. */
  bundle: string;
  timeoutInSeconds?: number;
  config?: Record<string, string>;
  compartmentId?: string;
  applicationId?: string;
  memoryInMBs?: number;
}

/** A Functions application: the compartment its functions live in, and config every one of them inherits. */
export interface ApplicationJson {
  id: string;
  compartmentId: string;
  displayName: string;
  /** Merged under each function's own config (the function's keys win), as OCI does. */
  config?: Record<string, string>;
}

export interface Durations {
  START: number;
  STOP: number;
  SOFTSTOP: number;
  RESET: number;
  SOFTRESET: number;
}

export const DEFAULT_DURATIONS_MS: Durations = {
  START: 30_000,
  STOP: 30_000,
  SOFTSTOP: 60_000,
  RESET: 60_000,
  SOFTRESET: 60_000,
};

export interface Timings {
  timeScale: number;
  durationsMs: Durations;
}

export interface Faults {
  rateLimit?: { perSecond: number; burst?: number };
  errorRate?: { fraction: number; statuses?: number[] };
  dropRate?: { fraction: number; afterProcessing?: boolean };
  outOfCapacity?: { instanceIds?: string[]; shapes?: string[] };
  latencyMs?: number;
  hold?: { instanceIds: string[]; ms: number };
  /** After each GetInstance of these instances, someone else changes a freeform tag (a new etag). */
  concurrentUpdate?: { instanceIds: string[] };
  /** The region answers 401 NotAuthenticated to requests signed with a security token (keyId `ST$…`). */
  refuseTokens?: boolean;
  seed?: number;
}

/**
 * One served region's own state (issue 14): the same fields as the top level, which hold the default
 * region's. Everything else (keys, functions, applications, topics, timings) is shared.
 */
export type RegionState = Pick<
  EmulatorState,
  "instances" | "faults" | "instancePools" | "nodePools" | "containerInstances" | "shapes"
>;

/** The state file (`--state file.json`) and `startEmulator({state})`. Every field is optional. */
export interface EmulatorState {
  /** The default region (default us-ashburn-1): unprefixed paths and the top-level fields are its. */
  region?: string;
  /** More served regions, by name, each under `/<name>` (docs/emulator.md, "Regions"). */
  regions?: Record<string, RegionState>;
  tenancyId?: string;
  timeScale?: number;
  durationsMs?: Partial<Durations>;
  faults?: Faults;
  instances?: Array<Partial<InstanceJson>>;
  apiKeys?: ApiKeyJson[];
  functions?: FunctionJson[];
  /** Instance pools (docs/emulator.md): InstancePool fields plus `instanceIds` (members; made when absent). */
  instancePools?: Array<Record<string, unknown>>;
  /** OKE node pools: NodePool fields; `size` or `nodeConfigDetails.size` gives the number of ACTIVE nodes. */
  nodePools?: Array<Record<string, unknown>>;
  /** Container instances: ContainerInstance fields. */
  containerInstances?: Array<Record<string, unknown>>;
  /** Registered before `functions`; a function without `applicationId` joins its compartment's default application. */
  applications?: ApplicationJson[];
  /** Notifications topics: {"id": "ocid1.onstopic...", "compartmentId", "name"?}. */
  topics?: Array<{ id: string; compartmentId: string; name?: string }>;
  /** The ListShapes catalogue (emulator/src/shapes.ts); absent: the built-in one. */
  shapes?: Array<{ shape: string; isBilledForStoppedInstance?: boolean; [field: string]: unknown }>;
}

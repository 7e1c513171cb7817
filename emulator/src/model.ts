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
  seed?: number;
}

/** The state file (`--state file.json`) and `startEmulator({state})`. Every field is optional. */
export interface EmulatorState {
  region?: string;
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
}

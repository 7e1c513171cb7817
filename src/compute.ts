import type { ErrorCode } from "./errors.js";
import type { TargetKind } from "./kinds.js";

/**
 * The Compute port: the only way the core talks to OCI. One adapter (oci-compute.ts) speaks to the
 * real API; the in-memory fake in test/helpers implements the same contract.
 * Errors are thrown as ComputeError (src/errors.ts).
 */
export const LIFECYCLE_STATES = [
  "MOVING",
  "PROVISIONING",
  "RUNNING",
  "STARTING",
  "STOPPING",
  "STOPPED",
  "CREATING_IMAGE",
  "TERMINATING",
  "TERMINATED",
] as const;

export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export type PowerAction = "START" | "STOP" | "SOFTSTOP";

export interface InstanceView {
  id: string;
  compartmentId: string;
  displayName: string;
  lifecycleState: LifecycleState | string;
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
  shape?: string;
  /** The target's kind (absent: an instance). */
  kind?: TargetKind;
  /** The kind's own state when lifecycleState is its instance-vocabulary equivalent (kinds.ts). */
  nativeState?: string;
  /** Node pools: nodeConfigDetails.size. */
  size?: number;
  /** Set when the kind's own record says the last action failed (e.g. a FAILED work request). */
  failure?: { code: ErrorCode; message: string };
}

/** Per-request details a kind's action may need. */
export interface ActionOptions {
  /** Node pools: the size to start to (else the recorded size). */
  size?: number | undefined;
}

/**
 * One kind of compute other than instances (instance pools, node pools, container instances):
 * the same three operations, each with its own OCI adapter and an in-memory fake.
 */
export interface KindPort {
  get(id: string, signal?: AbortSignal): Promise<InstanceView>;
  /** Every resource of this kind directly in the compartment, across all pages. */
  list(compartmentId: string, signal?: AbortSignal): Promise<InstanceView[]>;
  act(
    id: string,
    action: PowerAction,
    retryToken: string,
    signal?: AbortSignal,
    options?: ActionOptions,
  ): Promise<InstanceView>;
  /** Instance pools: the ids of the pool's member instances. */
  members?(id: string, signal?: AbortSignal): Promise<string[]>;
}

export interface ComputePort {
  getInstance(id: string, signal?: AbortSignal): Promise<InstanceView>;
  /** Every instance directly in the compartment, across all pages. */
  listInstances(compartmentId: string, signal?: AbortSignal): Promise<InstanceView[]>;
  /** Sends a power action; the same retryToken on every retry of one action. */
  instanceAction(
    id: string,
    action: PowerAction,
    retryToken: string,
    signal?: AbortSignal,
    options?: ActionOptions,
  ): Promise<InstanceView>;
  /** Other kinds (kind-router.ts); absent on a port that only knows instances. */
  listOfKind?(
    kind: Exclude<TargetKind, "instance">,
    compartmentId: string,
    signal?: AbortSignal,
  ): Promise<InstanceView[]>;
  /** The member instance ids of an instance pool. */
  poolMembers?(poolId: string, signal?: AbortSignal): Promise<string[]>;
}

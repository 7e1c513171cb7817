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
  ): Promise<InstanceView>;
}

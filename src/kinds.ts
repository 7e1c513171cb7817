/**
 * The kinds of compute a request may target, and the pure rules that fold each kind's own states
 * into the instance vocabulary power.ts decides on (RUNNING / STOPPED / STARTING / STOPPING / MOVING
 * …), so idempotency, settling, waiting and write-off stay one set of rules for every kind. The
 * kind's own state is kept beside it (nativeState) for the result. No I/O: adapters call these.
 */
import type { InstanceView, LifecycleState, PowerAction } from "./compute.js";
import { ComputeError } from "./errors.js";

export const TARGET_KINDS = ["instance", "instance_pool", "node_pool", "container_instance"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];
export type OtherKind = Exclude<TargetKind, "instance">;

/** OCID resource type → kind (ocid1.<type>.…). */
const BY_OCID_TYPE: Record<string, TargetKind> = {
  instance: "instance",
  instancepool: "instance_pool",
  nodepool: "node_pool",
  computecontainerinstance: "container_instance",
};

export function kindOfOcidType(resourceType: string): TargetKind | undefined {
  return Object.hasOwn(BY_OCID_TYPE, resourceType) ? BY_OCID_TYPE[resourceType] : undefined;
}

/** The kind of an OCID (instance when it cannot be told: the instance path reports the error). */
export function kindOfId(id: string): TargetKind {
  return kindOfOcidType(id.split(".")[1] ?? "") ?? "instance";
}

export function isTargetKind(value: unknown): value is TargetKind {
  return typeof value === "string" && (TARGET_KINDS as readonly string[]).includes(value);
}

/** Default freeform tag key holding a stopped node pool's size (config NODE_POOL_SIZE_TAG_KEY). */
export const DEFAULT_NODE_POOL_SIZE_TAG_KEY = "power-previous-size";

/** Instance pool (Compute Management): its states are the instance's, plus SCALING. */
export function instancePoolState(native: string): LifecycleState | string {
  switch (native) {
    case "SCALING":
      return "MOVING";
    default:
      return native;
  }
}

/** Container instance: ACTIVE / INACTIVE are its running / stopped. */
export function containerInstanceState(native: string): LifecycleState | string {
  switch (native) {
    case "ACTIVE":
      return "RUNNING";
    case "INACTIVE":
      return "STOPPED";
    case "CREATING":
      return "PROVISIONING";
    case "UPDATING":
      return "MOVING";
    case "DELETING":
      return "TERMINATING";
    case "DELETED":
      return "TERMINATED";
    default:
      return native;
  }
}

export interface NodePoolFacts {
  lifecycleState: string;
  /** nodeConfigDetails.size */
  size: number;
  /** Nodes in ACTIVE state. */
  activeNodes: number;
  /** All nodes listed (any state). */
  nodes: number;
  /** Status of a work request this function started and has not yet seen end, if any. */
  workRequest?: string | undefined;
}

/**
 * A node pool is RUNNING when its size is above 0 and every node is up, STOPPED when size and nodes
 * are 0, STARTING/STOPPING while its work request runs or its nodes move toward the size.
 */
export function nodePoolState(p: NodePoolFacts): LifecycleState | string {
  switch (p.lifecycleState) {
    case "DELETED":
      return "TERMINATED";
    case "DELETING":
      return "TERMINATING";
    case "CREATING":
      return "PROVISIONING";
    case "FAILED":
    case "NEEDS_ATTENTION":
    case "INACTIVE":
      return p.lifecycleState;
    default:
      break;
  }
  const moving =
    p.workRequest === "ACCEPTED" || p.workRequest === "IN_PROGRESS" || p.lifecycleState === "UPDATING";
  if (p.size === 0) return moving || p.nodes > 0 ? "STOPPING" : "STOPPED";
  if (moving || p.activeNodes < p.size || p.nodes > p.size) return "STARTING";
  return "RUNNING";
}

export interface NodePoolUpdate {
  size: number;
  freeformTags: Record<string, string>;
}

/**
 * The one UpdateNodePool a power action sends: stop records the current size in the tag (every
 * other freeform tag kept) and sets size 0; start sets the requested or recorded size back.
 */
export function nodePoolUpdate(
  action: PowerAction,
  pool: { id: string; size: number; freeformTags: Record<string, string> },
  tagKey: string,
  requestedSize: number | undefined,
): NodePoolUpdate {
  if (action !== "START") {
    return { size: 0, freeformTags: { ...pool.freeformTags, [tagKey]: String(pool.size) } };
  }
  if (requestedSize !== undefined) return { size: requestedSize, freeformTags: { ...pool.freeformTags } };
  const recorded = Object.hasOwn(pool.freeformTags, tagKey) ? pool.freeformTags[tagKey] : undefined;
  const size = recorded === undefined ? Number.NaN : Number(recorded);
  if (!Number.isInteger(size) || size < 1) {
    throw new ComputeError(
      "NoRecordedSize",
      recorded === undefined
        ? `node pool ${pool.id} has no recorded size (freeform tag "${tagKey}" is absent): give "size" in the request to start it`
        : `node pool ${pool.id} has freeform tag "${tagKey}" = ${JSON.stringify(recorded.slice(0, 20))}, not a positive whole number: give "size" in the request`,
      { transient: false },
    );
  }
  return { size, freeformTags: { ...pool.freeformTags } };
}

/** A view's kind (instance when not said). */
export function viewKind(view: InstanceView): TargetKind {
  return view.kind ?? "instance";
}

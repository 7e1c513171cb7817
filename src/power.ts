/**
 * Pure power decisions: given the desired action and the instance's current state, what to do.
 * No I/O, no clock: batch.ts calls this again every time it learns a new state.
 */

import { LIFECYCLE_STATES, type LifecycleState, type PowerAction } from "./compute.js";
import type { ErrorCode } from "./errors.js";

export type Decision =
  /** Already in the target state: nothing to do. */
  | { kind: "unchanged" }
  /** Already moving toward the target state (e.g. STARTING when starting): wait, send nothing. */
  | { kind: "wait" }
  /** In a transition away from the target or a transient state: wait until it settles, then decide again. */
  | { kind: "settle" }
  /** Send the power action. */
  | { kind: "act" }
  /** Cannot reach the target state. */
  | { kind: "fail"; code: ErrorCode; message: string };

export function targetState(action: PowerAction): "RUNNING" | "STOPPED" {
  return action === "START" ? "RUNNING" : "STOPPED";
}

export function isKnownState(state: string): state is LifecycleState {
  return (LIFECYCLE_STATES as readonly string[]).includes(state);
}

/** States an instance leaves on its own (OCI is working on it). */
export function isTransitional(state: string): boolean {
  return (
    state === "STARTING" ||
    state === "STOPPING" ||
    state === "PROVISIONING" ||
    state === "MOVING" ||
    state === "CREATING_IMAGE"
  );
}

export function decide(action: PowerAction, state: LifecycleState | string): Decision {
  if (!isKnownState(state)) {
    return {
      kind: "fail",
      code: "UnexpectedState",
      message: `instance is in state ${JSON.stringify(state.slice(0, 40))}, which this function does not know how to handle`,
    };
  }
  const starting = action === "START";
  switch (state) {
    case "RUNNING":
      return starting ? { kind: "unchanged" } : { kind: "act" };
    case "STOPPED":
      return starting ? { kind: "act" } : { kind: "unchanged" };
    case "STARTING":
    case "PROVISIONING":
      return starting ? { kind: "wait" } : { kind: "settle" };
    case "STOPPING":
      return starting ? { kind: "settle" } : { kind: "wait" };
    case "MOVING":
    case "CREATING_IMAGE":
      return { kind: "settle" };
    case "TERMINATING":
    case "TERMINATED":
      return {
        kind: "fail",
        code: "InstanceTerminated",
        message: `instance is ${state}; it cannot be ${starting ? "started" : "stopped"}`,
      };
    default: {
      const unreachable: never = state;
      return unreachable;
    }
  }
}

/**
 * While waiting after our own action (or for a transition already under way): is this state final
 * for the wait? Returns "done" at the target, "fail" when the target can no longer be reached
 * without another action, "keep" otherwise.
 */
export function waitVerdict(action: PowerAction, state: string): "done" | "keep" | "fail" {
  const target = targetState(action);
  if (state === target) return "done";
  if (state === "TERMINATING" || state === "TERMINATED" || !isKnownState(state)) return "fail";
  if (isTransitional(state)) return "keep";
  // The opposite stable state: the transition we waited for ended elsewhere.
  return "fail";
}

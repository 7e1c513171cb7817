/**
 * A target's result: the one place a result object is built and logged, so that a field added to
 * every result (a reason, the target's kind, its region) is added here once.
 */
import type { InstanceView } from "./compute.js";
import type { ErrorBody, PowerError } from "./errors.js";
import { kindOfId, type TargetKind } from "./kinds.js";
import type { Logger } from "./log.js";

export type Outcome = "changed" | "unchanged" | "skipped" | "in_progress" | "failed" | "planned";

/** A reason is one short sentence; a longer one (e.g. quoting an error) is cut here. */
export const MAX_REASON_LENGTH = 300;

export interface InstanceResult {
  target_id: string;
  kind: TargetKind;
  /** The region the target lives in (null: its OCID names no region this function knows). */
  region?: string | null;
  /** Instances only (the field every instance result has always had). */
  instance_id?: string;
  display_name?: string;
  outcome: Outcome;
  /** Why this outcome, in one short sentence (every result has one). */
  reason: string;
  state_before?: string;
  state_after?: string;
  /** stop-compute, for an instance it stopped or would stop: does OCI keep billing the shape while stopped (null: unknown). */
  billed_while_stopped?: boolean | null;
  elapsed_ms: number;
  /** Node pools: nodeConfigDetails.size in the last view. */
  size?: number;
  /** Instance pools in a compartment selection: selected members acted on through the pool. */
  member_ids?: string[];
  error?: ErrorBody;
}

export interface ResultInput {
  id: string;
  outcome: Outcome;
  reason: string;
  elapsedMs: number;
  /** The last view of the instance, if it was ever read. */
  view: InstanceView | undefined;
  stateBefore: string | undefined;
  error: PowerError | undefined;
  /** Set only where stop-compute looked the shape up (undefined: the field is left out). */
  billedWhileStopped?: boolean | null | undefined;
  memberIds?: string[] | undefined;
}

export function buildResult(input: ResultInput): InstanceResult {
  const kind = input.view?.kind ?? kindOfId(input.id);
  const result: InstanceResult = {
    target_id: input.id,
    kind,
    ...(kind === "instance" ? { instance_id: input.id } : {}),
    outcome: input.outcome,
    reason: shortReason(input.reason),
    elapsed_ms: Math.max(0, input.elapsedMs),
  };
  if (input.view?.displayName !== undefined) result.display_name = input.view.displayName;
  if (input.stateBefore !== undefined) result.state_before = input.stateBefore;
  if (input.view) result.state_after = input.view.nativeState ?? input.view.lifecycleState;
  if (input.view?.size !== undefined) result.size = input.view.size;
  if (input.memberIds && input.memberIds.length > 0) result.member_ids = input.memberIds;
  if (input.billedWhileStopped !== undefined) result.billed_while_stopped = input.billedWhileStopped;
  if (input.error) result.error = input.error.toJSON();
  return result;
}

function shortReason(reason: string): string {
  const chars = Array.from(reason);
  return chars.length > MAX_REASON_LENGTH ? `${chars.slice(0, MAX_REASON_LENGTH - 1).join("")}…` : reason;
}

/** One log line per target outcome: warn for failures, info otherwise. */
export function logResult(logger: Logger, result: InstanceResult, error: PowerError | undefined): void {
  const fields = {
    target_id: result.target_id,
    kind: result.kind,
    instance_id: result.instance_id,
    outcome: result.outcome,
    reason: result.reason,
    state_before: result.state_before,
    state_after: result.state_after,
    billed_while_stopped: result.billed_while_stopped,
    error_code: error?.code,
    error_message: error?.message,
    opc_request_id: error?.opcRequestId,
    elapsed_ms: result.elapsed_ms,
  };
  if (result.outcome === "failed") logger.warn("instance outcome", fields);
  else logger.info("instance outcome", fields);
}

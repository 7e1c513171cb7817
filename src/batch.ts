/**
 * Runs one invocation's batch: resolve targets, decide per instance, send power actions through a
 * paced and bounded pool with retry tokens, wait in bulk, and account for every instance by the
 * deadline. Every target ends in exactly one result, whatever happens.
 */
import { randomUUID } from "node:crypto";
import type { ComputePort, InstanceView, PowerAction } from "./compute.js";
import type { FunctionConfig } from "./config.js";
import { ComputeError, type ErrorBody, PowerError } from "./errors.js";
import type { Logger } from "./log.js";
import { CallScheduler, NotSentError } from "./pacing.js";
import { decide, isTransitional, targetState, waitVerdict } from "./power.js";
import type { PowerRequest } from "./request.js";
import {
  asPowerError,
  backoffMs,
  DEFAULT_RETRY_TUNING,
  type RetryTuning,
  readWithRetry,
  sleep,
  withTimeout,
} from "./retry.js";
import { type Resolution, resolveCompartment, resolveIds } from "./targets.js";
import { StateWatcher, type WatchTuning } from "./watch.js";

export type Outcome = "changed" | "unchanged" | "in_progress" | "failed" | "planned";

export interface InstanceResult {
  instance_id: string;
  display_name?: string;
  outcome: Outcome;
  state_before?: string;
  state_after?: string;
  elapsed_ms: number;
  error?: ErrorBody;
}

export interface BatchTuning {
  retry: RetryTuning;
  watch: Partial<WatchTuning>;
  /** Sets of up to this many ids are read one GET at a time. */
  smallSet: number;
  /** How long after an accepted action a listing may still show the old state. */
  staleGraceMs: number;
  /** 409 IncorrectState → re-read and decide again, at most this many times. */
  maxRedecisions: number;
  /** Extra time after the deadline before unfinished work is written off (safety net). */
  safetyMs: number;
}

export const DEFAULT_BATCH_TUNING: BatchTuning = {
  retry: DEFAULT_RETRY_TUNING,
  watch: {},
  smallSet: 3,
  staleGraceMs: 5000,
  maxRedecisions: 5,
  safetyMs: 400,
};

export interface BatchDeps {
  compute: ComputePort;
  config: FunctionConfig;
  logger: Logger;
  /** Epoch ms: every instance has an answer by then. */
  deadlineAt: number;
  /** Epoch ms: when the invocation started (elapsed_ms is measured from here). */
  startedAt: number;
  /** Epoch ms: the answer must be out by then whatever is still running (default deadlineAt + safetyMs). */
  answerBy?: number;
  tuning?: Partial<BatchTuning>;
}

export interface BatchOutcome {
  results: InstanceResult[];
  /** The targets could not be resolved at all (e.g. the compartment listing failed). */
  fatal?: PowerError;
  apiCalls: number;
}

type Phase = "resolving" | "deciding" | "settling" | "queued" | "sent" | "waiting" | "done";

interface Slot {
  id: string;
  view: InstanceView | undefined;
  stateBefore: string | undefined;
  phase: Phase;
  result: InstanceResult | undefined;
}

type SendResult =
  | { kind: "accepted"; view: InstanceView; at: number }
  | { kind: "redecide"; view: InstanceView }
  | { kind: "failed"; error: PowerError }
  | { kind: "unknown"; error: PowerError };

const VERB: Record<PowerAction, string> = { START: "START", STOP: "STOP", SOFTSTOP: "SOFTSTOP" };

export async function runBatch(request: PowerRequest, deps: BatchDeps): Promise<BatchOutcome> {
  const tuning: BatchTuning = { ...DEFAULT_BATCH_TUNING, ...deps.tuning };
  const { compute, logger, deadlineAt, startedAt } = deps;
  const action = request.action;
  const target = targetState(action);
  const scheduler = new CallScheduler({
    maxConcurrency: deps.config.maxConcurrency,
    initialRate: deps.config.maxRate,
  });
  let actionsPending = 0;
  const watcher = new StateWatcher({
    compute,
    scheduler,
    deadlineAt,
    logger,
    tuning: { requestTimeoutMs: tuning.retry.requestTimeoutMs, ...tuning.watch },
    actionsPending: () => actionsPending > 0,
  });
  const allowed = deps.config.allowedCompartmentIds;
  const slots = new Map<string, Slot>();
  const order: string[] = [];

  const finish = (slot: Slot, outcome: Outcome, error?: PowerError, view?: InstanceView): void => {
    if (slot.result) return;
    const seen = view ?? slot.view;
    const result: InstanceResult = {
      instance_id: slot.id,
      outcome,
      elapsed_ms: Math.max(0, Date.now() - startedAt),
    };
    if (seen?.displayName !== undefined) result.display_name = seen.displayName;
    if (slot.stateBefore !== undefined) result.state_before = slot.stateBefore;
    if (seen) result.state_after = seen.lifecycleState;
    if (error) result.error = error.toJSON();
    slot.result = result;
    slot.phase = "done";
    const fields = {
      instance_id: slot.id,
      outcome,
      state_before: result.state_before,
      state_after: result.state_after,
      error_code: error?.code,
      error_message: error?.message,
      opc_request_id: error?.opcRequestId,
      elapsed_ms: result.elapsed_ms,
    };
    if (outcome === "failed") logger.warn("instance outcome", fields);
    else logger.info("instance outcome", fields);
  };

  const newSlot = (id: string): Slot => {
    const slot: Slot = { id, view: undefined, stateBefore: undefined, phase: "resolving", result: undefined };
    slots.set(id, slot);
    order.push(id);
    return slot;
  };

  const getWithRetry = (id: string): Promise<InstanceView> =>
    readWithRetry((signal) => compute.getInstance(id, signal), {
      scheduler,
      deadlineAt,
      tuning: tuning.retry,
    });

  /** One power action with one retry token, retried while the answer is transient. */
  const sendAction = async (slot: Slot, view: InstanceView): Promise<SendResult> => {
    const token = randomUUID();
    // An attempt whose answer was lost may have taken effect (lostAnswer); a 5xx might have too.
    let lostAnswer = false;
    let maybeApplied = false;
    for (let attempt = 0; ; attempt++) {
      let error: PowerError;
      try {
        slot.phase = lostAnswer ? "sent" : "queued";
        const accepted = await scheduler.schedule(
          () => {
            slot.phase = "sent";
            return withTimeout(tuning.retry.requestTimeoutMs, deadlineAt, (signal) =>
              compute.instanceAction(slot.id, action, token, signal),
            );
          },
          { priority: "normal", notAfter: deadlineAt },
        );
        scheduler.succeeded();
        return { kind: "accepted", view: accepted, at: Date.now() };
      } catch (thrown) {
        error = asPowerError(thrown, `${VERB[action]} failed`);
      }
      if (error instanceof NotSentError) {
        return lostAnswer
          ? {
              kind: "unknown",
              error: new PowerError(
                "DeadlineExceeded",
                `${VERB[action]} was sent but its answer was not received before the deadline; the instance may be changing`,
              ),
            }
          : {
              kind: "failed",
              error: new PowerError(
                "DeadlineExceeded",
                `the deadline came before ${VERB[action]} could be sent (state ${view.lifecycleState})`,
              ),
            };
      }
      if (!(error instanceof ComputeError)) return { kind: "failed", error };
      if (
        error.code === "NetworkError" &&
        !error.outcomeUnknown &&
        !lostAnswer &&
        Date.now() >= deadlineAt - 5
      ) {
        // Cut off by the deadline (its timer, give or take timer rounding) before it was written: it
        // never reached OCI.
        return {
          kind: "failed",
          error: new PowerError(
            "DeadlineExceeded",
            `the deadline came before ${VERB[action]} could be sent (state ${view.lifecycleState})`,
          ),
        };
      }
      logger.debug("power action attempt failed", {
        instance_id: slot.id,
        attempt,
        error_code: error.code,
        status: error.status,
        opc_request_id: error.opcRequestId,
      });
      if (error.code === "IncorrectState") {
        // The state moved under us: read it again and decide afresh (new token next time).
        try {
          return { kind: "redecide", view: await getWithRetry(slot.id) };
        } catch (readError) {
          return { kind: "failed", error: asPowerError(readError, "re-reading the instance failed") };
        }
      }
      if (!error.transient) return { kind: "failed", error };
      if (error.code === "TooManyRequests") scheduler.throttled();
      if (error.code === "NetworkError" && error.outcomeUnknown) lostAnswer = true;
      if (lostAnswer || error.code === "ServiceError") maybeApplied = true;
      const delay = Math.max(backoffMs(attempt, tuning.retry), error.retryAfterMs ?? 0);
      const outOfTries = attempt + 1 >= tuning.retry.maxAttempts || Date.now() + delay >= deadlineAt;
      if (outOfTries) {
        // An earlier attempt may have taken effect with its answer lost: look before reporting.
        if (maybeApplied) {
          const seen = await getWithRetry(slot.id).catch(() => undefined);
          const kind = seen ? decide(action, seen.lifecycleState).kind : undefined;
          if (seen && (kind === "unchanged" || kind === "wait"))
            return { kind: "accepted", view: seen, at: Date.now() };
        }
        // Still unknown: report it as possibly moving, not as lost.
        if (lostAnswer) {
          const lost =
            error.code === "NetworkError"
              ? error
              : new ComputeError(
                  "NetworkError",
                  `${VERB[action]} was sent but its answer was lost, and retrying failed (last: ${error.message}); the instance may be changing`,
                  {
                    transient: true,
                    outcomeUnknown: true,
                    status: error.status,
                    opcRequestId: error.opcRequestId,
                  },
                );
          return { kind: "unknown", error: lost };
        }
        return { kind: "failed", error };
      }
      await sleep(delay);
    }
  };

  const runInstance = async (slot: Slot, first: InstanceView): Promise<void> => {
    let view = first;
    slot.view = view;
    slot.stateBefore = view.lifecycleState;
    slot.phase = "deciding";
    if (allowed && !allowed.has(view.compartmentId)) {
      finish(
        slot,
        "failed",
        new PowerError(
          "Forbidden",
          `instance is in compartment ${view.compartmentId}, which is not in ALLOWED_COMPARTMENT_IDS; it was not touched`,
        ),
      );
      return;
    }
    let redecisions = 0;
    for (;;) {
      slot.view = view;
      const decision = decide(action, view.lifecycleState);
      switch (decision.kind) {
        case "unchanged":
          finish(slot, "unchanged", undefined, view);
          return;
        case "fail":
          finish(slot, "failed", new PowerError(decision.code, decision.message), view);
          return;
        case "wait": {
          if (request.dryRun) return finish(slot, "unchanged", undefined, view);
          if (!request.wait) return finish(slot, "in_progress", undefined, view);
          slot.phase = "waiting";
          const r = await watcher.watch(view, (v) => waitVerdict(action, v.lifecycleState) !== "keep");
          if (r.kind === "timeout") return finish(slot, "in_progress", undefined, r.view);
          if (r.kind === "error") return finish(slot, "failed", r.error, r.view);
          if (r.view.lifecycleState === target) return finish(slot, "unchanged", undefined, r.view);
          view = r.view;
          continue;
        }
        case "settle": {
          if (request.dryRun) return finish(slot, "planned", undefined, view);
          slot.phase = "settling";
          const r = await watcher.watch(view, (v) => !isTransitional(v.lifecycleState));
          if (r.kind === "timeout") {
            return finish(
              slot,
              "failed",
              new PowerError(
                "DeadlineExceeded",
                `instance was still ${r.view?.lifecycleState ?? view.lifecycleState} at the deadline; ${VERB[action]} was not sent`,
              ),
              r.view,
            );
          }
          if (r.kind === "error") return finish(slot, "failed", r.error, r.view);
          view = r.view;
          continue;
        }
        case "act": {
          if (request.dryRun) return finish(slot, "planned", undefined, view);
          actionsPending++;
          let sent: SendResult;
          try {
            sent = await sendAction(slot, view);
          } finally {
            actionsPending--;
          }
          if (sent.kind === "failed") return finish(slot, "failed", sent.error, view);
          if (sent.kind === "unknown") return finish(slot, "in_progress", sent.error, view);
          if (sent.kind === "redecide") {
            if (++redecisions > tuning.maxRedecisions) {
              return finish(
                slot,
                "failed",
                new PowerError(
                  "IncorrectState",
                  `instance kept changing state (last ${sent.view.lifecycleState})`,
                ),
                sent.view,
              );
            }
            view = sent.view;
            continue;
          }
          const acceptedView: InstanceView = {
            ...view,
            ...sent.view,
            compartmentId: sent.view.compartmentId || view.compartmentId,
          };
          if (acceptedView.lifecycleState === target) return finish(slot, "changed", undefined, acceptedView);
          if (!request.wait) return finish(slot, "in_progress", undefined, acceptedView);
          slot.phase = "waiting";
          const before = view.lifecycleState;
          const acceptedAt = sent.at;
          const r = await watcher.watch(
            acceptedView,
            (v) => {
              const verdict = waitVerdict(action, v.lifecycleState);
              // A listing may lag the action by a moment: the old state right after is not a failure.
              if (
                verdict === "fail" &&
                v.lifecycleState === before &&
                Date.now() - acceptedAt < tuning.staleGraceMs
              ) {
                return false;
              }
              return verdict !== "keep";
            },
            { learnKey: action, since: acceptedAt },
          );
          if (r.kind === "timeout") return finish(slot, "in_progress", undefined, r.view);
          if (r.kind === "error") return finish(slot, "failed", r.error, r.view);
          const state = r.view.lifecycleState;
          if (state === target) return finish(slot, "changed", undefined, r.view);
          const code =
            state === "TERMINATED" || state === "TERMINATING" ? "InstanceTerminated" : "UnexpectedState";
          return finish(
            slot,
            "failed",
            new PowerError(
              code,
              `${VERB[action]} was accepted but the instance went to ${state} instead of ${target}`,
            ),
            r.view,
          );
        }
        default: {
          const unreachable: never = decision;
          return unreachable;
        }
      }
    }
  };

  /** At the deadline (plus a safety margin) whatever has not finished is written off honestly. */
  const writeOff = (failure?: PowerError): void => {
    for (const slot of slots.values()) {
      if (slot.result) continue;
      if (failure && slot.phase !== "sent" && slot.phase !== "waiting") {
        finish(slot, "failed", failure);
        continue;
      }
      switch (slot.phase) {
        case "resolving":
          finish(
            slot,
            "failed",
            new PowerError("DeadlineExceeded", "the instance could not be read before the deadline"),
          );
          break;
        case "deciding":
        case "settling":
        case "queued":
          finish(
            slot,
            "failed",
            new PowerError("DeadlineExceeded", `the deadline came before ${VERB[action]} could be sent`),
          );
          break;
        case "sent":
          finish(
            slot,
            "in_progress",
            new PowerError(
              "DeadlineExceeded",
              `${VERB[action]} was sent but no answer came before the deadline`,
            ),
          );
          break;
        case "waiting":
        case "done":
          finish(slot, "in_progress");
          break;
      }
    }
  };

  const deadlineTimer = setTimeout(
    () => {
      scheduler.close("the deadline came before this call could be sent");
      watcher.close();
    },
    Math.max(0, deadlineAt - Date.now()),
  );
  let safetyTimer: NodeJS.Timeout | undefined;
  const safety = new Promise<void>((resolve) => {
    const at = Math.min(deadlineAt + tuning.safetyMs, deps.answerBy ?? Number.POSITIVE_INFINITY);
    safetyTimer = setTimeout(resolve, Math.max(0, at - Date.now()));
  });

  let fatal: PowerError | undefined;
  const work = (async (): Promise<void> => {
    const resolveDeps = {
      compute,
      scheduler,
      deadlineAt,
      retry: tuning.retry,
      logger,
      allowedCompartmentIds: allowed,
      smallSet: tuning.smallSet,
    };
    const running: Promise<void>[] = [];
    const start = (slot: Slot, resolution: Resolution): void => {
      if (resolution instanceof PowerError) {
        finish(slot, "failed", resolution);
        return;
      }
      running.push(
        runInstance(slot, resolution).catch((error: unknown) => {
          finish(slot, "failed", asPowerError(error, "unexpected error"));
        }),
      );
    };
    if (request.targets.kind === "ids") {
      for (const id of request.targets.ids) newSlot(id);
      await resolveIds(request.targets.ids, resolveDeps, (id, resolution) => {
        const slot = slots.get(id);
        if (slot) start(slot, resolution);
      });
    } else {
      let views: InstanceView[];
      try {
        views = await resolveCompartment(request.targets, resolveDeps);
      } catch (error) {
        fatal = asPowerError(error, "listing the compartment failed");
        return;
      }
      for (const view of views) {
        if (slots.has(view.id)) continue;
        start(newSlot(view.id), view);
      }
    }
    await Promise.all(running);
  })();

  // A bug must not crash the process or lose targets: what is unfinished is written off below.
  let crashed: PowerError | undefined;
  const guarded = work.catch((error: unknown) => {
    crashed = asPowerError(error, "the batch failed");
    logger.error("batch failed", { error_message: crashed.message });
  });
  try {
    await Promise.race([guarded, safety]);
  } finally {
    clearTimeout(deadlineTimer);
    if (safetyTimer) clearTimeout(safetyTimer);
    scheduler.close("the batch is over");
    watcher.close();
  }
  writeOff(crashed);
  const results = order
    .map((id) => slots.get(id)?.result)
    .filter((r): r is InstanceResult => r !== undefined);
  const outcome: BatchOutcome = { results, apiCalls: scheduler.stats.started };
  if (fatal) outcome.fatal = fatal;
  return outcome;
}

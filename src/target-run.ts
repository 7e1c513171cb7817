/**
 * One target's run as a small state machine: decide → (settle | act | wait) → decide again … →
 * result. Each step returns the next view to decide on, or nothing once the target has its result.
 * The target's phase is what the deadline's write-off reads if the batch ends first.
 */
import type { ActionSender } from "./action-sender.js";
import type { InstanceView, PowerAction } from "./compute.js";
import type { Deadline, Phase } from "./deadline.js";
import { writeOffVerdict } from "./deadline.js";
import { PowerError } from "./errors.js";
import type { Guardrail } from "./guardrail.js";
import type { Logger } from "./log.js";
import { decide, isTransitional, targetState, waitVerdict } from "./power.js";
import type { PowerRequest } from "./request.js";
import { buildResult, type InstanceResult, logResult, type Outcome } from "./target-result.js";
import type { StateWatcher } from "./watch.js";

export interface TargetRunDeps {
  request: PowerRequest;
  watcher: StateWatcher;
  sender: ActionSender;
  deadline: Deadline;
  guardrail: Guardrail;
  logger: Logger;
  /** Epoch ms: elapsed_ms is measured from here. */
  startedAt: number;
  /** How long after an accepted action a listing may still show the old state. */
  staleGraceMs: number;
  /** 409 IncorrectState → re-read and decide again, at most this many times. */
  maxRedecisions: number;
  /** Counts power actions still to be sent (the watcher polls more sparsely meanwhile). */
  actions: { pending: number };
}

/** The next view to decide on, or undefined when the target has its result. */
type Step = InstanceView | undefined;

/** Transition times are learned per kind (an instance's start is not a node pool's). */
function learnKeyOf(view: InstanceView, action: PowerAction): string {
  return view.kind && view.kind !== "instance" ? `${view.kind}:${action}` : action;
}

export class TargetRun {
  phase: Phase = "resolving";
  result: InstanceResult | undefined;
  /** Instance pools in a compartment selection: the selected members left to the pool. */
  memberIds: string[] | undefined;
  private view: InstanceView | undefined;
  private stateBefore: string | undefined;
  private redecisions = 0;
  private readonly action: PowerAction;
  private readonly target: string;

  constructor(
    readonly id: string,
    private readonly deps: TargetRunDeps,
  ) {
    this.action = deps.request.action;
    this.target = targetState(this.action);
  }

  /** Ends the target with its one result (later calls are ignored). */
  finish(outcome: Outcome, error?: PowerError, view?: InstanceView): undefined {
    if (this.result) return undefined;
    const seen = view ?? this.view;
    this.result = buildResult({
      id: this.id,
      outcome,
      elapsedMs: this.deps.deadline.now() - this.deps.startedAt,
      view: seen,
      stateBefore: this.stateBefore,
      error,
      memberIds: this.memberIds,
    });
    this.phase = "done";
    logResult(this.deps.logger, this.result, error);
    return undefined;
  }

  /** The batch is over: report what is unfinished according to its phase. */
  writeOff(crash?: PowerError): void {
    if (this.result) return;
    const verdict = writeOffVerdict(this.phase, this.action, crash);
    this.finish(verdict.outcome, verdict.error);
  }

  async run(first: InstanceView): Promise<void> {
    this.view = first;
    this.stateBefore = first.nativeState ?? first.lifecycleState;
    this.phase = "deciding";
    const refused = this.deps.guardrail.refuseInstance(first);
    if (refused) return void this.finish("failed", refused);
    let next: Step = first;
    while (next) {
      this.view = next;
      next = await this.step(next);
    }
  }

  private async step(view: InstanceView): Promise<Step> {
    const decision = decide(this.action, view.lifecycleState);
    switch (decision.kind) {
      case "unchanged":
        return this.finish("unchanged", undefined, view);
      case "fail":
        return this.finish("failed", new PowerError(decision.code, decision.message), view);
      case "wait":
        return this.waitForOther(view);
      case "settle":
        return this.settle(view);
      case "act":
        return this.act(view);
      default: {
        const unreachable: never = decision;
        return unreachable;
      }
    }
  }

  /** Already moving towards the target: wait for it (or report it as moving). */
  private async waitForOther(view: InstanceView): Promise<Step> {
    const { request, watcher } = this.deps;
    if (request.dryRun) return this.finish("unchanged", undefined, view);
    if (!request.wait) return this.finish("in_progress", undefined, view);
    this.phase = "waiting";
    const r = await watcher.watch(view, (v) => waitVerdict(this.action, v.lifecycleState) !== "keep");
    if (r.kind === "timeout") return this.finish("in_progress", undefined, r.view);
    if (r.kind === "error") return this.finish("failed", r.error, r.view);
    if (r.view.lifecycleState === this.target) return this.finish("unchanged", undefined, r.view);
    return r.view;
  }

  /** In a transition away from the target: wait until it settles, then decide again. */
  private async settle(view: InstanceView): Promise<Step> {
    if (this.deps.request.dryRun) return this.finish("planned", undefined, view);
    this.phase = "settling";
    const r = await this.deps.watcher.watch(view, (v) => !isTransitional(v.lifecycleState));
    if (r.kind === "timeout") {
      const state = r.view?.lifecycleState ?? view.lifecycleState;
      return this.finish(
        "failed",
        new PowerError(
          "DeadlineExceeded",
          `instance was still ${state} at the deadline; ${this.action} was not sent`,
        ),
        r.view,
      );
    }
    if (r.kind === "error") return this.finish("failed", r.error, r.view);
    return r.view;
  }

  /** Send the action, then (if asked) wait until the target state is reached. */
  private async act(view: InstanceView): Promise<Step> {
    if (this.deps.request.dryRun) return this.finish("planned", undefined, view);
    const { actions } = this.deps;
    actions.pending++;
    const sent = await this.deps.sender
      .send(this.id, view, (phase) => {
        this.phase = phase;
      })
      .finally(() => {
        actions.pending--;
      });
    switch (sent.kind) {
      case "failed":
        return this.finish("failed", sent.error, view);
      case "unknown":
        return this.finish("in_progress", sent.error, view);
      case "redecide":
        if (++this.redecisions <= this.deps.maxRedecisions) return sent.view;
        return this.finish(
          "failed",
          new PowerError("IncorrectState", `instance kept changing state (last ${sent.view.lifecycleState})`),
          sent.view,
        );
      case "accepted": {
        const accepted: InstanceView = {
          ...view,
          ...sent.view,
          compartmentId: sent.view.compartmentId || view.compartmentId,
        };
        return this.waitForTarget(view.lifecycleState, accepted, sent.at);
      }
      default: {
        const unreachable: never = sent;
        return unreachable;
      }
    }
  }

  private async waitForTarget(before: string, accepted: InstanceView, acceptedAt: number): Promise<Step> {
    if (accepted.lifecycleState === this.target) return this.finish("changed", undefined, accepted);
    if (!this.deps.request.wait) return this.finish("in_progress", undefined, accepted);
    this.phase = "waiting";
    const { deadline, staleGraceMs } = this.deps;
    const r = await this.deps.watcher.watch(
      accepted,
      (v) => {
        const verdict = waitVerdict(this.action, v.lifecycleState);
        // A listing may lag the action by a moment: the old state right after is not a failure.
        const stale = v.lifecycleState === before && deadline.now() - acceptedAt < staleGraceMs;
        if (verdict === "fail" && stale) return false;
        return verdict !== "keep";
      },
      { learnKey: learnKeyOf(accepted, this.action), since: acceptedAt },
    );
    if (r.kind === "timeout") return this.finish("in_progress", undefined, r.view);
    if (r.kind === "error") return this.finish("failed", r.error, r.view);
    const state = r.view.lifecycleState;
    if (state === this.target) return this.finish("changed", undefined, r.view);
    const failure = r.view.failure;
    if (failure) return this.finish("failed", new PowerError(failure.code, failure.message), r.view);
    const code = state === "TERMINATED" || state === "TERMINATING" ? "InstanceTerminated" : "UnexpectedState";
    return this.finish(
      "failed",
      new PowerError(
        code,
        `${this.action} was accepted but the instance went to ${state} instead of ${this.target}`,
      ),
      r.view,
    );
  }
}

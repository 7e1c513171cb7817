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
import { decideOverride, type OverrideConfig } from "./override.js";
import { decide, isTransitional, targetState, waitVerdict } from "./power.js";
import type { PowerRequest } from "./request.js";
import type { StopBilling } from "./stop-billing.js";
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
  /** How the power-override tag is read (override.ts). */
  override: OverrideConfig;
  /** stop-compute only: whether a stop saves money (billing-aware stops); undefined for start. */
  billing: StopBilling | undefined;
  /** Told of every phase change (the batch's admission gate counts runs not yet sent). */
  onPhase?: (run: TargetRun, before: Phase, after: Phase) => void;
}

/** Where an instance in a transition away from the target settles (for reasons). */
function settlesTo(state: string): string {
  if (state === "STOPPING") return "STOPPED";
  if (state === "STARTING" || state === "PROVISIONING") return "RUNNING";
  return "the end of it";
}

/** The next view to decide on, or undefined when the target has its result. */
type Step = InstanceView | undefined;

/** Transition times are learned per kind (an instance's start is not a node pool's). */
function learnKeyOf(view: InstanceView, action: PowerAction): string {
  return view.kind && view.kind !== "instance" ? `${view.kind}:${action}` : action;
}

export class TargetRun {
  #phase: Phase = "resolving";
  result: InstanceResult | undefined;
  /** Instance pools in a compartment selection: the selected members left to the pool. */
  memberIds: string[] | undefined;
  private view: InstanceView | undefined;
  private stateBefore: string | undefined;
  private redecisions = 0;
  /** OCI accepted our power action. */
  private accepted = false;
  /** What happened before the current step, e.g. "was STOPPING; waited for STOPPED". */
  private history: string | undefined;
  /** An override that no longer holds or was ignored, said first in the reason. */
  private overrideNote: string | undefined;
  /** stop-compute: the billing answer for this instance once it was looked up. */
  private billed: { value: boolean | null; note: string | undefined } | undefined;
  private readonly action: PowerAction;
  private readonly target: string;

  constructor(
    readonly id: string,
    private readonly deps: TargetRunDeps,
  ) {
    this.action = deps.request.action;
    this.target = targetState(this.action);
  }

  get phase(): Phase {
    return this.#phase;
  }

  set phase(next: Phase) {
    const before = this.#phase;
    this.#phase = next;
    if (before !== next) this.deps.onPhase?.(this, before, next);
  }

  /** Ends the target with its one result (later calls are ignored). The reason defaults to the error's message. */
  finish(outcome: Outcome, error?: PowerError, view?: InstanceView, reason?: string): undefined {
    if (this.result) return undefined;
    const seen = view ?? this.view;
    const why = [this.overrideNote, reason ?? error?.message ?? outcome, this.billed?.note];
    this.result = buildResult({
      id: this.id,
      outcome,
      reason: why.filter((part) => part !== undefined).join("; "),
      elapsedMs: this.deps.deadline.now() - this.deps.startedAt,
      view: seen,
      stateBefore: this.stateBefore,
      error,
      billedWhileStopped: this.billed?.value,
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
    const last = `still ${this.view?.lifecycleState ?? "changing"} when the batch ended`;
    const reason =
      verdict.error?.message ?? (this.accepted ? `${this.sent()}; ${last}` : this.after(`${last}`));
    this.finish(verdict.outcome, verdict.error, undefined, reason);
  }

  /** "sent START", after what happened before if anything did. */
  private sent(): string {
    return this.history ? `${this.history}, then sent ${this.action}` : `sent ${this.action}`;
  }

  /** `reason` after what happened before, if anything did. */
  private after(reason: string): string {
    return this.history ? `${this.history}; ${reason}` : reason;
  }

  /** The power-override tag (from the view already read); true when it ended the target. */
  private applyOverride(view: InstanceView): boolean {
    const { request, override, deadline } = this.deps;
    const direction = this.action === "START" ? "start" : "stop";
    const decision = decideOverride(
      view,
      direction,
      deadline.now(),
      override,
      request.ignoreOverrides ?? false,
    );
    switch (decision.kind) {
      case "none":
        return false;
      case "expired":
        this.overrideNote = `override expired at ${decision.until}`;
        return false;
      case "ignored":
        this.overrideNote = decision.reason;
        return false;
      case "skip":
        this.finish("skipped", undefined, view, decision.reason);
        return true;
      case "invalid":
        this.finish("failed", new PowerError(decision.code, decision.message), view, decision.reason);
        return true;
      default: {
        const unreachable: never = decision;
        return unreachable;
      }
    }
  }

  /** stop-compute: looks the shape up (once); true when BILLED_WHEN_STOPPED=skip ended the target. */
  private async applyBilling(view: InstanceView): Promise<boolean> {
    const billing = this.deps.billing;
    if (!billing || this.billed) return false;
    const decision = await billing.decide(view);
    if (decision.kind === "skip") {
      this.billed = { value: true, note: undefined };
      this.finish("skipped", undefined, view, decision.reason);
      return true;
    }
    const value = decision.billedWhileStopped;
    this.billed = { value, note: value === true ? decision.reason : undefined };
    return false;
  }

  async run(first: InstanceView): Promise<void> {
    this.view = first;
    this.stateBefore = first.nativeState ?? first.lifecycleState;
    this.phase = "deciding";
    const refused = this.deps.guardrail.refuseInstance(first);
    if (refused) return void this.finish("failed", refused);
    if (this.applyOverride(first)) return;
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
        return this.finish("unchanged", undefined, view, this.after(`already ${view.lifecycleState}`));
      case "fail":
        return this.finish(
          "failed",
          new PowerError(decision.code, decision.message),
          view,
          this.after(decision.message),
        );
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
    const state = view.lifecycleState;
    const already = `already ${state} (on its way to ${this.target})`;
    if (request.dryRun) return this.finish("unchanged", undefined, view, `${already}; nothing to send`);
    if (!request.wait)
      return this.finish("in_progress", undefined, view, `${already}; not waiting (wait=false)`);
    this.phase = "waiting";
    const r = await watcher.watch(view, (v) => waitVerdict(this.action, v.lifecycleState) !== "keep");
    if (r.kind === "timeout") {
      const last = r.view?.lifecycleState ?? state;
      return this.finish("in_progress", undefined, r.view, `was ${state}; still ${last} at the deadline`);
    }
    if (r.kind === "error") return this.finish("failed", r.error, r.view, `was ${state}; ${r.error.message}`);
    if (r.view.lifecycleState === this.target) {
      return this.finish("unchanged", undefined, r.view, `was ${state}; waited for ${this.target}`);
    }
    this.history = `was ${state}, then ${r.view.lifecycleState}`;
    return r.view;
  }

  /** In a transition away from the target: wait until it settles, then decide again. */
  private async settle(view: InstanceView): Promise<Step> {
    const state = view.lifecycleState;
    if (this.deps.request.dryRun) {
      if (await this.applyBilling(view)) return undefined;
      const plan = `${state}; would wait for ${settlesTo(state)}, then send ${this.action}`;
      return this.finish("planned", undefined, view, plan);
    }
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
    if (r.kind === "error") return this.finish("failed", r.error, r.view, `was ${state}; ${r.error.message}`);
    this.history = `was ${state}; waited for ${r.view.lifecycleState}`;
    return r.view;
  }

  /** Send the action, then (if asked) wait until the target state is reached. */
  private async act(view: InstanceView): Promise<Step> {
    if (await this.applyBilling(view)) return undefined;
    if (this.deps.request.dryRun) {
      return this.finish(
        "planned",
        undefined,
        view,
        this.after(`${view.lifecycleState}; would send ${this.action}`),
      );
    }
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
        return this.finish(
          "failed",
          sent.error,
          view,
          this.after(`${this.action} failed: ${sent.error.message}`),
        );
      case "unknown":
        return this.finish(
          "in_progress",
          sent.error,
          view,
          `${this.sent()}; no answer came back, it may be under way (${sent.error.code})`,
        );
      case "redecide":
        if (++this.redecisions <= this.deps.maxRedecisions) return sent.view;
        return this.finish(
          "failed",
          new PowerError("IncorrectState", `instance kept changing state (last ${sent.view.lifecycleState})`),
          sent.view,
          `${this.action} refused ${this.deps.maxRedecisions} times: the instance kept changing state`,
        );
      case "accepted": {
        this.accepted = true;
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
    if (accepted.lifecycleState === this.target)
      return this.finish("changed", undefined, accepted, this.sent());
    if (!this.deps.request.wait) {
      return this.finish("in_progress", undefined, accepted, `${this.sent()}; not waiting (wait=false)`);
    }
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
    if (r.kind === "timeout") {
      const last = r.view?.lifecycleState ?? accepted.lifecycleState;
      return this.finish("in_progress", undefined, r.view, `${this.sent()}; still ${last} at the deadline`);
    }
    if (r.kind === "error")
      return this.finish("failed", r.error, r.view, `${this.sent()}; ${r.error.message}`);
    const state = r.view.lifecycleState;
    if (state === this.target) return this.finish("changed", undefined, r.view, this.sent());
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
      `${this.sent()}; it went to ${state} instead of ${this.target}`,
    );
  }
}

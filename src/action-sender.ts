/**
 * Sends one power action for one instance: one retry token for all its attempts, retried while the
 * answer is transient, with the lost-answer rules in one place. An attempt whose answer was lost may
 * have taken effect, and so may one that got a 5xx ("maybe applied"): before reporting failure the
 * instance is read again, and a send that may have worked is reported as possibly moving, not lost.
 */
import { randomUUID } from "node:crypto";
import { sleep } from "./clock.js";
import type { ComputePort, InstanceView, PowerAction } from "./compute.js";
import type { Deadline } from "./deadline.js";
import { ComputeError, PowerError } from "./errors.js";
import type { Logger } from "./log.js";
import { type CallScheduler, NotSentError } from "./pacing.js";
import { decide } from "./power.js";
import { asPowerError, backoffMs, type RetryTuning } from "./retry.js";

export type SendResult =
  | { kind: "accepted"; view: InstanceView; at: number }
  | { kind: "redecide"; view: InstanceView }
  | { kind: "failed"; error: PowerError }
  | { kind: "unknown"; error: PowerError };

export interface SenderDeps {
  compute: ComputePort;
  scheduler: CallScheduler;
  deadline: Deadline;
  retry: RetryTuning;
  logger: Logger;
  /** Reads one instance (with the read retries). */
  read: (id: string) => Promise<InstanceView>;
}

/** What the attempts of one send have learned so far. */
interface Attempts {
  readonly token: string;
  /** An attempt's answer was lost: it may have reached OCI. */
  lostAnswer: boolean;
  /** An attempt may have taken effect (lost answer or 5xx). */
  maybeApplied: boolean;
}

type Next = SendResult | { kind: "retry"; delayMs: number };

export class ActionSender {
  constructor(
    private readonly deps: SenderDeps,
    private readonly action: PowerAction,
    /** start-compute's size for node pools (the request's "size"). */
    private readonly size?: number,
  ) {}

  /** onPhase says where the send is: queued, or sent (an attempt started or its answer was lost). */
  async send(
    id: string,
    view: InstanceView,
    onPhase: (phase: "queued" | "sent") => void,
  ): Promise<SendResult> {
    const attempts: Attempts = { token: randomUUID(), lostAnswer: false, maybeApplied: false };
    for (let attempt = 0; ; attempt++) {
      let error: PowerError;
      try {
        onPhase(attempts.lostAnswer ? "sent" : "queued");
        const accepted = await this.deps.scheduler.call(
          (signal) => {
            onPhase("sent");
            return this.deps.compute.instanceAction(id, this.action, attempts.token, signal, {
              size: this.size,
            });
          },
          {
            priority: "normal",
            timeoutMs: this.deps.retry.requestTimeoutMs,
            notAfter: this.deps.deadline.at,
          },
        );
        return { kind: "accepted", view: accepted, at: this.deps.deadline.now() };
      } catch (thrown) {
        error = asPowerError(thrown, `${this.action} failed`);
      }
      const next = await this.afterFailure(id, view, error, attempts, attempt);
      if (next.kind !== "retry") return next;
      await sleep(this.deps.deadline.clock, next.delayMs);
    }
  }

  /** Classifies a failed attempt: a final result, or retry after a delay. */
  private async afterFailure(
    id: string,
    view: InstanceView,
    error: PowerError,
    attempts: Attempts,
    attempt: number,
  ): Promise<Next> {
    if (error instanceof NotSentError) return this.notSent(view, attempts);
    if (!(error instanceof ComputeError)) return { kind: "failed", error };
    if (
      error.code === "NetworkError" &&
      !error.outcomeUnknown &&
      !attempts.lostAnswer &&
      this.deps.deadline.cutOff()
    ) {
      // Cut off by the deadline's timer before it was written: it never reached OCI.
      return this.notSent(view, attempts);
    }
    this.deps.logger.debug("power action attempt failed", {
      instance_id: id,
      attempt,
      error_code: error.code,
      status: error.status,
      opc_request_id: error.opcRequestId,
    });
    if (error.code === "IncorrectState") return this.redecide(id);
    if (!error.transient) return { kind: "failed", error };
    if (error.code === "NetworkError" && error.outcomeUnknown) attempts.lostAnswer = true;
    if (attempts.lostAnswer || error.code === "ServiceError") attempts.maybeApplied = true;
    const delayMs = Math.max(backoffMs(attempt, this.deps.retry), error.retryAfterMs ?? 0);
    const outOfTries =
      attempt + 1 >= this.deps.retry.maxAttempts || this.deps.deadline.leavesNoTimeFor(delayMs);
    if (!outOfTries) return { kind: "retry", delayMs };
    return this.giveUp(id, error, attempts);
  }

  /** The deadline stopped the send: never sent → failed; sent with its answer lost → unknown. */
  private notSent(view: InstanceView, attempts: Attempts): SendResult {
    if (attempts.lostAnswer) {
      return {
        kind: "unknown",
        error: new PowerError(
          "DeadlineExceeded",
          `${this.action} was sent but its answer was not received before the deadline; the instance may be changing`,
        ),
      };
    }
    return {
      kind: "failed",
      error: new PowerError(
        "DeadlineExceeded",
        `the deadline came before ${this.action} could be sent (state ${view.lifecycleState})`,
      ),
    };
  }

  /** The state moved under us: read it again and decide afresh (a new token next time). */
  private async redecide(id: string): Promise<SendResult> {
    try {
      return { kind: "redecide", view: await this.deps.read(id) };
    } catch (readError) {
      return { kind: "failed", error: asPowerError(readError, "re-reading the instance failed") };
    }
  }

  /** Out of tries: an earlier attempt may have taken effect with its answer lost, so look first. */
  private async giveUp(id: string, error: ComputeError, attempts: Attempts): Promise<SendResult> {
    if (attempts.maybeApplied) {
      const seen = await this.deps.read(id).catch(() => undefined);
      const kind = seen ? decide(this.action, seen.lifecycleState).kind : undefined;
      if (seen && (kind === "unchanged" || kind === "wait")) {
        return { kind: "accepted", view: seen, at: this.deps.deadline.now() };
      }
    }
    if (!attempts.lostAnswer) return { kind: "failed", error };
    // Still unknown: report it as possibly moving, not as lost.
    const lost =
      error.code === "NetworkError"
        ? error
        : new ComputeError(
            "NetworkError",
            `${this.action} was sent but its answer was lost, and retrying failed (last: ${error.message}); the instance may be changing`,
            {
              transient: true,
              outcomeUnknown: true,
              status: error.status,
              opcRequestId: error.opcRequestId,
            },
          );
    return { kind: "unknown", error: lost };
  }
}

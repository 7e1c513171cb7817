/**
 * Every deadline rule of an invocation in one place: the hard deadline (Fn-Deadline or a default
 * budget), the working deadline a margin before it, the answer-by time after which unfinished work
 * is written off, the per-request timeout cut to what is left, and what the write-off reports for a
 * target in each phase. Timers run on the injected clock and are all cancelled by dispose().
 */
import type { Clock } from "./clock.js";
import { PowerError } from "./errors.js";

/** Used when the invocation has no usable Fn-Deadline header. */
export const DEFAULT_BUDGET_MS = 30_000;
/** Answer this long before Fn-Deadline (less when the whole budget is short). */
export const DEADLINE_MARGIN_MS = 1500;
/** Longest time between the working deadline and the answer (the write-off's safety net). */
export const ANSWER_MARGIN_MS = 400;
/**
 * Timer rounding: a request cut off by its own timer at the deadline may observe the clock up to
 * this much before it. Such a cut request never reached OCI.
 */
export const TIMER_SLACK_MS = 5;

/** The invocation's hard deadline: Fn-Deadline, or the default budget when it is missing or invalid. */
export function hardDeadline(now: number, fnDeadline: Date | null | undefined): number {
  return fnDeadline && !Number.isNaN(fnDeadline.getTime()) ? fnDeadline.getTime() : now + DEFAULT_BUDGET_MS;
}

/** When the batch stops working: a margin before the hard deadline, or timeout_seconds if sooner. */
export function computeDeadline(
  now: number,
  fnDeadline: Date | null | undefined,
  timeoutSeconds?: number,
): number {
  const hard = hardDeadline(now, fnDeadline);
  const remaining = hard - now;
  const margin = remaining >= 3 * DEADLINE_MARGIN_MS ? DEADLINE_MARGIN_MS : Math.max(0, remaining / 3);
  let at = hard - margin;
  if (timeoutSeconds !== undefined) at = Math.min(at, now + timeoutSeconds * 1000);
  return Math.max(now, Math.floor(at));
}

/** Whatever still runs at deadlineAt is written off in time to answer before the hard deadline. */
export function answerByTime(deadlineAt: number, hard: number): number {
  return Math.max(deadlineAt, deadlineAt + Math.min(ANSWER_MARGIN_MS, (hard - deadlineAt) / 2));
}

/** Where a target is in its run; the write-off reports it according to this. */
export type Phase = "resolving" | "deciding" | "settling" | "queued" | "sent" | "waiting" | "done";

export interface WriteOff {
  outcome: "failed" | "in_progress";
  error?: PowerError;
}

/**
 * What an unfinished target reports when the batch is over: not sent → failed; sent or waiting →
 * in_progress (it may be changing). A crash fails what was not sent yet, with the crash as reason.
 */
export function writeOffVerdict(phase: Phase, verb: string, crash?: PowerError): WriteOff {
  if (crash && phase !== "sent" && phase !== "waiting") return { outcome: "failed", error: crash };
  switch (phase) {
    case "resolving":
      return {
        outcome: "failed",
        error: new PowerError("DeadlineExceeded", "the instance could not be read before the deadline"),
      };
    case "deciding":
    case "settling":
    case "queued":
      return {
        outcome: "failed",
        error: new PowerError("DeadlineExceeded", `the deadline came before ${verb} could be sent`),
      };
    case "sent":
      return {
        outcome: "in_progress",
        error: new PowerError("DeadlineExceeded", `${verb} was sent but no answer came before the deadline`),
      };
    case "waiting":
    case "done":
      return { outcome: "in_progress" };
    default: {
      const unreachable: never = phase;
      return unreachable;
    }
  }
}

/** A batch's deadline (`at`) and answer-by time, with the timers that enforce them. */
export class Deadline {
  private readonly cancels: (() => void)[] = [];

  constructor(
    readonly clock: Clock,
    /** Epoch ms: no call starts after this; every target has an answer by then. */
    readonly at: number,
    /** Epoch ms: the answer goes out by then whatever is still running. */
    readonly answerBy: number = at,
  ) {}

  /** The batch's deadline; the answer-by time is `at + safetyMs`, or the caller's if sooner. */
  static forBatch(clock: Clock, at: number, safetyMs: number, answerBy?: number): Deadline {
    return new Deadline(clock, at, Math.min(at + safetyMs, answerBy ?? Number.POSITIVE_INFINITY));
  }

  now(): number {
    return this.clock.now();
  }

  passed(): boolean {
    return this.clock.now() >= this.at;
  }

  /** A retry after delayMs would start at or after the deadline. */
  leavesNoTimeFor(delayMs: number): boolean {
    return this.clock.now() + delayMs >= this.at;
  }

  /** A request that ended now was cut off by the deadline's timer (give or take timer rounding). */
  cutOff(): boolean {
    return this.clock.now() >= this.at - TIMER_SLACK_MS;
  }

  /** One request's timeout: its own, cut to what is left of the deadline (at least 1 ms). */
  requestTimeout(ms: number): number {
    return Math.max(1, Math.min(ms, this.at - this.clock.now()));
  }

  /** Runs fn at the deadline (cancelled by dispose). */
  onDeadline(fn: () => void): void {
    this.cancels.push(this.clock.after(this.at - this.clock.now(), fn));
  }

  /** Resolves at the answer-by time (its timer is cancelled by dispose). */
  answerByReached(): Promise<void> {
    return new Promise((resolve) => {
      this.cancels.push(this.clock.after(this.answerBy - this.clock.now(), resolve));
    });
  }

  dispose(): void {
    for (const cancel of this.cancels.splice(0)) cancel();
  }
}

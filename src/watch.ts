/**
 * Watches instances until a condition holds, at few API calls per instance: waiters in the same
 * compartment share one listInstances per poll (bulk); small sets are polled with individual GETs.
 * Poll timing learns how long each kind of transition takes (per process, so warm invocations start
 * informed): polls are sparse while nothing can be done yet and about one per second once
 * something may finish, so the answer comes at most about a second after the last instance settles.
 */

import type { Clock } from "./clock.js";
import type { ComputePort, InstanceView } from "./compute.js";
import type { Deadline } from "./deadline.js";
import { ComputeError, PowerError } from "./errors.js";
import type { Logger } from "./log.js";
import type { CallScheduler } from "./pacing.js";

export interface WatchTuning {
  /** Poll period once a result may be near (and the cap for individual polls). */
  fastPollMs: number;
  /** Longest gap between two polls of a waiting instance. */
  slowPollMs: number;
  /** First individual poll after the wait starts. */
  firstPollMs: number;
  /** More waiters than this in one compartment (per page of its listing) → one list per poll. */
  bulkThreshold: number;
  /**
   * Up to this many waiters in a compartment: listed every fastPollMs even before a transition time
   * is learned (cheap in absolute terms, and keeps the answer close to the last change); more: the
   * listing backs off (1, 2, 4, 5 s) until the first transitions are seen.
   */
  eagerBulkBelow: number;
  /** Per-request timeout. */
  requestTimeoutMs: number;
}

export const DEFAULT_WATCH_TUNING: WatchTuning = {
  fastPollMs: 1000,
  slowPollMs: 5000,
  firstPollMs: 500,
  bulkThreshold: 3,
  eagerBulkBelow: 50,
  requestTimeoutMs: 20_000,
};

/**
 * While power actions are still being sent, bulk polls may take at most this share of the region's
 * call rate (a listing of P pages costs P calls): the actions, not the polls, decide when the batch
 * ends then, and every poll spent is a call per instance more (at 10 calls/s and 1,000 instances,
 * one listing a second was 0.1 calls per instance). Never sparser than slowPollMs.
 */
export const POLL_SHARE_WHILE_SENDING = 0.03;

export type WatchResult =
  | { kind: "done"; view: InstanceView }
  | { kind: "timeout"; view: InstanceView | undefined }
  | { kind: "error"; error: PowerError; view: InstanceView | undefined };

/** Learned bounds of a transition's duration (ms from action accepted to target observed). */
interface Learned {
  lo: number;
  hi: number;
}
const learned = new Map<string, Learned>();

/** For tests: forget what earlier batches learned. */
export function resetLearnedDurations(): void {
  learned.clear();
}

interface Waiter {
  id: string;
  compartmentId: string;
  /** Key of the transition being timed (action name) or undefined when not ours to learn from. */
  learnKey: string | undefined;
  since: number;
  until: (view: InstanceView) => boolean;
  resolve: (result: WatchResult) => void;
  last: InstanceView | undefined;
  /** When the last poll that saw it unfinished was sent. */
  lastNotDoneSentAt: number;
  /** Individual polling. */
  nextPollAt: number;
  backoffMs: number;
  inFlight: boolean;
  forceIndividual: boolean;
  failures: number;
}

interface CompartmentState {
  nextPollAt: number;
  backoffMs: number;
  inFlight: boolean;
  pages: number;
}

export interface WatcherDeps {
  compute: ComputePort;
  scheduler: CallScheduler;
  /** Polls stop at the deadline; its clock times them. */
  deadline: Deadline;
  logger: Logger;
  tuning?: Partial<WatchTuning>;
  /** True while the batch still has power actions to send (polls can be sparser then). */
  actionsPending?: () => boolean;
}

export class StateWatcher {
  private readonly waiters = new Map<string, Waiter>();
  private readonly compartments = new Map<string, CompartmentState>();
  private readonly tuning: WatchTuning;
  private readonly clock: Clock;
  private readonly deadlineAt: number;
  private cancelTimer: (() => void) | undefined;
  private closed = false;
  /** API calls made by the watcher (for logs). */
  readonly stats = { lists: 0, gets: 0 };

  constructor(private readonly deps: WatcherDeps) {
    this.tuning = { ...DEFAULT_WATCH_TUNING, ...deps.tuning };
    this.clock = deps.deadline.clock;
    this.deadlineAt = deps.deadline.at;
  }

  private now(): number {
    return this.clock.now();
  }

  watch(
    view: InstanceView,
    until: (view: InstanceView) => boolean,
    options: { learnKey?: string; since?: number } = {},
  ): Promise<WatchResult> {
    if (until(view)) return Promise.resolve({ kind: "done", view });
    if (this.closed || this.now() >= this.deadlineAt) return Promise.resolve({ kind: "timeout", view });
    const previous = this.waiters.get(view.id);
    if (previous) previous.resolve({ kind: "timeout", view: previous.last });
    const now = this.now();
    return new Promise<WatchResult>((resolve) => {
      const waiter: Waiter = {
        id: view.id,
        compartmentId: view.compartmentId,
        learnKey: options.learnKey,
        since: options.since ?? now,
        until,
        resolve: (result) => {
          if (this.waiters.get(waiter.id) === waiter) this.waiters.delete(waiter.id);
          resolve(result);
        },
        last: view,
        lastNotDoneSentAt: now,
        nextPollAt: now + this.tuning.firstPollMs,
        backoffMs: this.tuning.firstPollMs,
        inFlight: false,
        // Only instances appear in the compartment listing the bulk poll reads.
        forceIndividual: view.kind !== undefined && view.kind !== "instance",
        failures: 0,
      };
      this.waiters.set(view.id, waiter);
      if (!this.compartments.has(view.compartmentId)) {
        this.compartments.set(view.compartmentId, {
          nextPollAt: now + this.tuning.fastPollMs,
          backoffMs: this.tuning.fastPollMs,
          inFlight: false,
          pages: 1,
        });
      }
      this.arm();
    });
  }

  /** Deadline: every waiter gets its last known view. */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (const w of [...this.waiters.values()]) w.resolve({ kind: "timeout", view: w.last });
  }

  get waiting(): number {
    return this.waiters.size;
  }

  private dueAt(w: Waiter): number | undefined {
    if (!w.learnKey) return undefined;
    const l = learned.get(w.learnKey);
    if (!l) return undefined;
    return w.since + Math.min(l.lo, l.hi) - this.tuning.fastPollMs / 2;
  }

  private groups(): Map<string, { bulk: Waiter[]; individual: Waiter[] }> {
    const byCompartment = new Map<string, Waiter[]>();
    for (const w of this.waiters.values()) {
      const list = byCompartment.get(w.compartmentId);
      if (list) list.push(w);
      else byCompartment.set(w.compartmentId, [w]);
    }
    const out = new Map<string, { bulk: Waiter[]; individual: Waiter[] }>();
    for (const [compartmentId, ws] of byCompartment) {
      const state = this.compartments.get(compartmentId);
      const listable = ws.filter((w) => !w.forceIndividual);
      const threshold = this.tuning.bulkThreshold * Math.max(1, state?.pages ?? 1);
      if (listable.length > threshold) {
        out.set(compartmentId, { bulk: listable, individual: ws.filter((w) => w.forceIndividual) });
      } else {
        out.set(compartmentId, { bulk: [], individual: ws });
      }
    }
    return out;
  }

  /** Schedules the next tick at the earliest moment something needs polling. */
  private arm(): void {
    if (this.closed) return;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.waiters.size === 0) return;
    let next = this.deadlineAt;
    for (const [compartmentId, group] of this.groups()) {
      const state = this.compartments.get(compartmentId);
      if (group.bulk.length > 0 && state && !state.inFlight) next = Math.min(next, state.nextPollAt);
      for (const w of group.individual) if (!w.inFlight) next = Math.min(next, w.nextPollAt);
    }
    const delay = Math.max(0, next - this.now());
    this.cancelTimer = this.clock.after(delay, () => this.tick());
  }

  private tick(): void {
    this.cancelTimer = undefined;
    if (this.closed) return;
    const now = this.now();
    if (now >= this.deadlineAt) {
      this.close();
      return;
    }
    for (const [compartmentId, group] of this.groups()) {
      const state = this.compartments.get(compartmentId);
      if (state && group.bulk.length > 0 && !state.inFlight && state.nextPollAt <= now) {
        this.pollCompartment(compartmentId, state).catch((error: unknown) => this.crashed(error));
      }
      for (const w of group.individual) {
        if (!w.inFlight && w.nextPollAt <= now)
          this.pollOne(w).catch((error: unknown) => this.crashed(error));
      }
    }
    this.arm();
  }

  private observe(w: Waiter, view: InstanceView, sentAt: number, receivedAt: number): void {
    w.last = view;
    if (w.until(view)) {
      if (w.learnKey) {
        const prev = learned.get(w.learnKey);
        const hi = Math.max(0, receivedAt - w.since);
        const lo = Math.max(0, w.lastNotDoneSentAt - w.since);
        learned.set(w.learnKey, prev ? { lo: Math.max(prev.lo, lo), hi: Math.min(prev.hi, hi) } : { lo, hi });
      }
      w.resolve({ kind: "done", view });
    } else {
      w.lastNotDoneSentAt = sentAt;
    }
  }

  private fail(w: Waiter, error: PowerError): void {
    w.resolve({ kind: "error", error, view: w.last });
  }

  /** A bug in a poll must not leave waiters hanging: they end with InternalError. */
  private crashed(error: unknown): void {
    this.deps.logger.error("state polling failed", { error: describe(error) });
    const failure = new PowerError("InternalError", `state polling failed: ${describe(error)}`);
    for (const w of [...this.waiters.values()]) this.fail(w, failure);
  }

  private async pollCompartment(compartmentId: string, state: CompartmentState): Promise<void> {
    state.inFlight = true;
    let sentAt = this.now();
    try {
      const views = await this.deps.scheduler.call((signal) => {
        sentAt = this.now();
        return this.deps.compute.listInstances(compartmentId, signal);
      }, this.callOptions());
      this.stats.lists++;
      const receivedAt = this.now();
      state.pages = Math.max(1, Math.ceil(views.length / 1000));
      const byId = new Map(views.map((v) => [v.id, v]));
      for (const w of [...this.waiters.values()]) {
        if (w.compartmentId !== compartmentId || w.forceIndividual) continue;
        const view = byId.get(w.id);
        if (view) this.observe(w, view, sentAt, receivedAt);
        else {
          // Not listed (moved or deleted since): ask for it by id.
          w.forceIndividual = true;
          w.nextPollAt = receivedAt;
        }
      }
      state.backoffMs = this.tuning.fastPollMs;
    } catch (error) {
      if (error instanceof ComputeError && !error.transient) {
        // Listing refused (e.g. no permission to list): fall back to GETs for these waiters.
        for (const w of this.waiters.values())
          if (w.compartmentId === compartmentId) w.forceIndividual = true;
      }
      this.deps.logger.debug("poll list failed", { compartment_id: compartmentId, error: describe(error) });
      state.backoffMs = Math.min(this.tuning.slowPollMs, state.backoffMs * 2);
    } finally {
      state.inFlight = false;
    }
    state.nextPollAt = this.now() + this.nextBulkDelay(compartmentId, state);
    this.arm();
  }

  private nextBulkDelay(compartmentId: string, state: CompartmentState): number {
    const now = this.now();
    const ws = [...this.waiters.values()].filter((w) => w.compartmentId === compartmentId);
    if (ws.length === 0) return this.tuning.fastPollMs;
    const fast = this.deps.actionsPending?.()
      ? Math.min(
          this.tuning.slowPollMs,
          Math.max(
            this.tuning.fastPollMs,
            (1000 * state.pages) / (POLL_SHARE_WHILE_SENDING * this.deps.scheduler.currentRate),
          ),
        )
      : this.tuning.fastPollMs;
    let earliestDue = Number.POSITIVE_INFINITY;
    let unknown = false;
    for (const w of ws) {
      const due = this.dueAt(w);
      if (due === undefined) unknown = true;
      else earliestDue = Math.min(earliestDue, due);
    }
    if (earliestDue <= now) return Math.max(fast, state.backoffMs);
    if (unknown) {
      if (ws.length <= this.tuning.eagerBulkBelow) return Math.max(fast, state.backoffMs);
      const delay = state.backoffMs;
      state.backoffMs = Math.min(this.tuning.slowPollMs, state.backoffMs * 2);
      return Math.max(fast, delay);
    }
    return Math.min(this.tuning.slowPollMs, Math.max(fast, earliestDue - now));
  }

  private callOptions(): { priority: "high"; timeoutMs: number; notAfter: number } {
    return { priority: "high", timeoutMs: this.tuning.requestTimeoutMs, notAfter: this.deadlineAt };
  }

  private async pollOne(w: Waiter): Promise<void> {
    w.inFlight = true;
    let sentAt = this.now();
    try {
      const view = await this.deps.scheduler.call((signal) => {
        sentAt = this.now();
        return this.deps.compute.getInstance(w.id, signal);
      }, this.callOptions());
      this.stats.gets++;
      w.failures = 0;
      this.observe(w, view, sentAt, this.now());
    } catch (error) {
      if (error instanceof ComputeError) {
        if (!error.transient) {
          this.fail(w, error);
          return;
        }
      } else if (!(error instanceof PowerError)) {
        this.fail(w, new PowerError("InternalError", `polling failed: ${describe(error)}`));
        return;
      }
      w.failures++;
      this.deps.logger.debug("poll get failed", { instance_id: w.id, error: describe(error) });
    } finally {
      w.inFlight = false;
    }
    if (!this.waiters.has(w.id)) {
      this.arm();
      return;
    }
    const now = this.now();
    const due = this.dueAt(w);
    let delay: number;
    if (w.failures > 0) {
      delay = Math.min(this.tuning.slowPollMs, this.tuning.firstPollMs * 2 ** w.failures);
    } else if (due !== undefined && due > now) {
      delay = Math.min(this.tuning.slowPollMs, Math.max(this.tuning.firstPollMs, due - now));
    } else {
      w.backoffMs = Math.min(this.tuning.fastPollMs, w.backoffMs * 2);
      delay = w.backoffMs;
    }
    w.nextPollAt = now + delay;
    this.arm();
  }
}

function describe(error: unknown): string {
  if (error instanceof PowerError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Billing-aware stops inside one batch: before stop-compute stops (or would stop) an instance, it
 * asks the per-process shape catalogue (shapes.ts) whether OCI keeps billing that shape while
 * stopped. The ListShapes call goes through the batch's call scheduler with retries and the
 * deadline, and the wait for it is bounded: a slow or failing ListShapes never holds the stop back
 * past a share of the time left, it only makes `billed_while_stopped` null (logged once per compartment).
 */
import type { InstanceView } from "./compute.js";
import type { Deadline } from "./deadline.js";
import type { Logger } from "./log.js";
import type { BillingConfig } from "./override.js";
import type { CallScheduler } from "./pacing.js";
import { type RetryTuning, readWithRetry } from "./retry.js";
import {
  type BillingDecision,
  billedWhileStopped,
  type CatalogueLookup,
  decideBilledStop,
  type ShapeCatalogueCache,
  type ShapesPort,
} from "./shapes.js";

/** Longest wait for a compartment's shapes (less when the deadline is nearer: see waitBudget). */
export const SHAPES_MAX_WAIT_MS = 5000;

export interface StopBillingDeps {
  /** undefined: the Compute client cannot list shapes (every stop reports null). */
  cache: ShapeCatalogueCache | undefined;
  port: ShapesPort | undefined;
  scheduler: CallScheduler;
  deadline: Deadline;
  retry: RetryTuning;
  logger: Logger;
  config: BillingConfig;
}

export class StopBilling {
  private readonly logged = new Set<string>();

  constructor(private readonly deps: StopBillingDeps) {}

  /** Whether to stop `view` and what to report as billed_while_stopped. Never rejects. */
  async decide(view: InstanceView): Promise<BillingDecision> {
    const lookup = await this.lookup(view.compartmentId);
    if (!lookup.ok) this.logOnce(view.compartmentId, lookup.error);
    return decideBilledStop(billedWhileStopped(view.shape, lookup), this.deps.config);
  }

  /** A third of the time left to the deadline, at most SHAPES_MAX_WAIT_MS: the stop keeps the rest. */
  private waitBudget(): number {
    const left = this.deps.deadline.at - this.deps.deadline.now();
    return Math.max(0, Math.min(SHAPES_MAX_WAIT_MS, Math.floor(left / 3)));
  }

  private async lookup(compartmentId: string): Promise<CatalogueLookup> {
    const { cache, port, scheduler, deadline, retry } = this.deps;
    if (!cache || !port) return { ok: false, error: "this Compute client cannot list shapes" };
    const read: ShapesPort["listShapes"] = (id) =>
      readWithRetry((signal) => port.listShapes(id, signal), { scheduler, deadline, tuning: retry });
    let cancel: (() => void) | undefined;
    const budget = this.waitBudget();
    const late = new Promise<CatalogueLookup>((resolve) => {
      cancel = deadline.clock.after(budget, () =>
        resolve({ ok: false, error: `ListShapes did not answer within ${budget} ms` }),
      );
    });
    try {
      return await Promise.race([cache.lookup(compartmentId, undefined, read), late]);
    } finally {
      cancel?.();
    }
  }

  private logOnce(compartmentId: string, error: string): void {
    if (this.logged.has(compartmentId)) return;
    this.logged.add(compartmentId);
    this.deps.logger.warn("shapes unreadable; stopping without billing information", {
      compartment_id: compartmentId,
      error_message: error,
    });
  }
}

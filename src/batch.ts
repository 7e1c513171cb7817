/**
 * Runs one invocation's batch: resolve targets, run each target's state machine (target-run.ts),
 * send power actions through a paced and bounded pool (action-sender.ts, pacing.ts), wait in bulk
 * (watch.ts), and account for every instance by the deadline (deadline.ts). Every target ends in
 * exactly one result, whatever happens.
 */
import { ActionSender } from "./action-sender.js";
import { type Clock, systemClock } from "./clock.js";
import type { ComputePort, InstanceView } from "./compute.js";
import type { FunctionConfig } from "./config.js";
import { Deadline, type Phase } from "./deadline.js";
import { PowerError } from "./errors.js";
import { Guardrail } from "./guardrail.js";
import { kindOfId } from "./kinds.js";
import type { Logger } from "./log.js";
import { readBillingConfig, readOverrideConfig } from "./override.js";
import { CallScheduler } from "./pacing.js";
import type { PowerRequest } from "./request.js";
import { asPowerError, DEFAULT_RETRY_TUNING, type RetryTuning, readWithRetry } from "./retry.js";
import type { ShapeCatalogueCache, ShapesPort } from "./shapes.js";
import { StopBilling } from "./stop-billing.js";
import type { InstanceResult } from "./target-result.js";
import { TargetRun, type TargetRunDeps } from "./target-run.js";
import {
  type CompartmentSelection,
  type Resolution,
  type ResolveDeps,
  resolveCompartment,
  resolveIds,
} from "./targets.js";
import { StateWatcher, type WatchTuning } from "./watch.js";

export type { InstanceResult, Outcome } from "./target-result.js";

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
  /** The invocation's clock (default: the system clock). */
  clock?: Clock;
  /** Billing-aware stops: the per-process shape catalogue and the port it reads (absent: billed_while_stopped null). */
  shapes?: { cache: ShapeCatalogueCache; port: ShapesPort };
}

export interface BatchOutcome {
  results: InstanceResult[];
  /** The targets could not be resolved at all (e.g. the compartment listing failed). */
  fatal?: PowerError;
  apiCalls: number;
  /** How the pacing ended (logged per region): 429s seen, the rate reached and its phase. */
  pacing?: { throttled: number; rate: number; phase: string };
}

/** The parts one batch is made of, wired once. */
interface Parts {
  deadline: Deadline;
  scheduler: CallScheduler;
  watcher: StateWatcher;
  runDeps: TargetRunDeps;
  resolveDeps: ResolveDeps;
}

function assemble(request: PowerRequest, deps: BatchDeps, tuning: BatchTuning): Parts {
  const { compute, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const deadline = Deadline.forBatch(clock, deps.deadlineAt, tuning.safetyMs, deps.answerBy);
  const scheduler = new CallScheduler({
    maxConcurrency: deps.config.maxConcurrency,
    initialRate: deps.config.maxRate,
    clock,
  });
  const actions = { pending: 0 };
  const watcher = new StateWatcher({
    compute,
    scheduler,
    deadline,
    logger,
    tuning: { requestTimeoutMs: tuning.retry.requestTimeoutMs, ...tuning.watch },
    actionsPending: () => actions.pending > 0,
  });
  const guardrail = new Guardrail(deps.config.allowedCompartmentIds);
  const read = (id: string): Promise<InstanceView> =>
    readWithRetry((signal) => compute.getInstance(id, signal), { scheduler, deadline, tuning: tuning.retry });
  const sender = new ActionSender(
    { compute, scheduler, deadline, retry: tuning.retry, logger, read },
    request.action,
    request.size,
  );
  const runDeps: TargetRunDeps = {
    request,
    watcher,
    sender,
    deadline,
    guardrail,
    logger,
    startedAt: deps.startedAt,
    staleGraceMs: tuning.staleGraceMs,
    maxRedecisions: tuning.maxRedecisions,
    actions,
    override: deps.config.override ?? readOverrideConfig({}),
    billing:
      request.action === "START"
        ? undefined
        : new StopBilling({
            cache: deps.shapes?.cache,
            port: deps.shapes?.port,
            scheduler,
            deadline,
            retry: tuning.retry,
            logger,
            config: deps.config.billing ?? readBillingConfig({}),
          }),
  };
  const resolveDeps: ResolveDeps = {
    compute,
    scheduler,
    deadline,
    retry: tuning.retry,
    logger,
    guardrail,
    smallSet: tuning.smallSet,
  };
  return { deadline, scheduler, watcher, runDeps, resolveDeps };
}

/**
 * How many runs may be between their start and their action's sending (resolving, deciding, queued
 * at the scheduler) at once; the others wait, holding only their view. Without the gate every
 * target of a 10,000-target batch keeps four suspended calls and their promises while it waits its
 * turn at the scheduler (about 7 KB each, measured); with it, only this many do. Large enough that
 * the scheduler never starves: at its fastest (POWER_MAX_CONCURRENCY in flight, a few hundred calls
 * per second) the gate refills within one round trip.
 */
export const ADMIT_AHEAD = { min: 128, perConcurrency: 8 } as const;

const NOT_YET_SENT: ReadonlySet<Phase> = new Set<Phase>(["resolving", "deciding", "queued"]);

/** The batch's targets in request (or listing) order, each with its run, started through the gate. */
class TargetRuns {
  private readonly runs = new Map<string, TargetRun>();
  private readonly running: Promise<void>[] = [];
  private readonly admitted = new WeakSet<TargetRun>();
  /** Runs read and waiting for admission, in order; an admitted one's slot is cleared. */
  private readonly waiting: ({ run: TargetRun; view: InstanceView } | undefined)[] = [];
  private next = 0;
  private ahead = 0;
  private closed = false;
  private readonly limit: number;
  private readonly deps: TargetRunDeps;

  constructor(deps: TargetRunDeps, maxConcurrency: number) {
    this.limit = Math.max(ADMIT_AHEAD.min, ADMIT_AHEAD.perConcurrency * maxConcurrency);
    this.deps = { ...deps, onPhase: (run, before, after) => this.moved(run, before, after) };
  }

  add(id: string): TargetRun | undefined {
    if (this.runs.has(id)) return undefined;
    const run = new TargetRun(id, this.deps);
    this.runs.set(id, run);
    return run;
  }

  get(id: string): TargetRun | undefined {
    return this.runs.get(id);
  }

  start(run: TargetRun, resolution: Resolution): void {
    if (resolution instanceof PowerError) {
      run.finish("failed", resolution);
      return;
    }
    // Read, and waiting for its turn: the write-off says it could not be sent in time.
    run.phase = "queued";
    this.waiting.push({ run, view: resolution });
    // Its action is still to be sent: the watcher polls sparsely while any is (watch.ts).
    this.deps.actions.pending++;
    this.admit();
  }

  /** The deadline: nothing more is started. */
  close(): void {
    this.closed = true;
  }

  private moved(run: TargetRun, before: Phase, after: Phase): void {
    if (!this.admitted.has(run)) return;
    this.ahead += (NOT_YET_SENT.has(after) ? 1 : 0) - (NOT_YET_SENT.has(before) ? 1 : 0);
    if (this.ahead < this.limit) this.admit();
  }

  private admit(): void {
    while (!this.closed && this.ahead < this.limit && this.next < this.waiting.length) {
      const entry = this.waiting[this.next];
      this.waiting[this.next++] = undefined;
      if (!entry) continue;
      this.admitted.add(entry.run);
      this.ahead++;
      this.deps.actions.pending--;
      const { run, view } = entry;
      this.running.push(
        run.run(view).catch((error: unknown) => {
          run.finish("failed", asPowerError(error, "unexpected error"));
        }),
      );
    }
  }

  async settled(): Promise<void> {
    // Runs are added while earlier ones settle (admission): wait until none is left to start.
    for (let seen = 0; seen < this.running.length || this.next < this.waiting.length; ) {
      if (seen < this.running.length) {
        const upTo = this.running.length;
        await Promise.all(this.running.slice(seen, upTo));
        seen = upTo;
      } else if (this.closed) return;
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  writeOff(crash?: PowerError): InstanceResult[] {
    const results: InstanceResult[] = [];
    for (const run of this.runs.values()) {
      run.writeOff(crash);
      if (run.result) results.push(run.result);
    }
    return results;
  }
}

/** Resolves the targets and starts each one's run; returns the fatal error if none could be resolved. */
async function resolveAndRun(
  request: PowerRequest,
  parts: Parts,
  targets: TargetRuns,
): Promise<PowerError | undefined> {
  if (request.targets.kind === "ids") {
    for (const id of request.targets.ids) targets.add(id);
    const onResolved = (id: string, resolution: Resolution): void => {
      const run = targets.get(id);
      if (run) targets.start(run, resolution);
    };
    // Instances may be read in bulk (one listing per compartment); other kinds are read one by one.
    const instances = request.targets.ids.filter((id) => kindOfId(id) === "instance");
    const others = request.targets.ids.filter((id) => kindOfId(id) !== "instance");
    const oneByOne = { ...parts.resolveDeps, smallSet: Number.POSITIVE_INFINITY };
    await Promise.all([
      resolveIds(instances, parts.resolveDeps, onResolved),
      resolveIds(others, oneByOne, onResolved),
    ]);
  } else {
    let selection: CompartmentSelection;
    try {
      selection = await resolveCompartment(request.targets, parts.resolveDeps);
    } catch (error) {
      return asPowerError(error, "listing the compartment failed");
    }
    for (const view of selection.views) {
      const run = targets.add(view.id);
      if (!run) continue;
      run.memberIds = selection.members.get(view.id);
      targets.start(run, view);
    }
  }
  await targets.settled();
  return undefined;
}

export async function runBatch(request: PowerRequest, deps: BatchDeps): Promise<BatchOutcome> {
  const tuning: BatchTuning = { ...DEFAULT_BATCH_TUNING, ...deps.tuning };
  const parts = assemble(request, deps, tuning);
  const { deadline, scheduler, watcher } = parts;
  const targets = new TargetRuns(parts.runDeps, deps.config.maxConcurrency);
  deadline.onDeadline(() => {
    targets.close();
    scheduler.close("the deadline came before this call could be sent");
    watcher.close();
  });
  let fatal: PowerError | undefined;
  // A bug must not crash the process or lose targets: what is unfinished is written off below.
  let crashed: PowerError | undefined;
  const work = resolveAndRun(request, parts, targets).then(
    (error) => {
      fatal = error;
    },
    (error: unknown) => {
      crashed = asPowerError(error, "the batch failed");
      deps.logger.error("batch failed", { error_message: crashed.message });
    },
  );
  try {
    await Promise.race([work, deadline.answerByReached()]);
  } finally {
    deadline.dispose();
    targets.close();
    scheduler.close("the batch is over");
    watcher.close();
  }
  const outcome: BatchOutcome = {
    results: targets.writeOff(crashed),
    apiCalls: scheduler.stats.started,
    pacing: {
      throttled: scheduler.stats.throttled,
      rate: Math.round(scheduler.currentRate * 10) / 10,
      phase: scheduler.phase,
    },
  };
  if (fatal) outcome.fatal = fatal;
  return outcome;
}

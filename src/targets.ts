/**
 * Resolves a request's targets to instance views, spending few calls: a set of ids is read with one
 * listInstances per compartment (learned from one GET) when that covers several of them, and with
 * individual GETs otherwise; a compartment selection is one listing, filtered by tags.
 */

import type { ComputePort, InstanceView } from "./compute.js";
import type { Deadline } from "./deadline.js";
import { ComputeError, PowerError } from "./errors.js";
import type { Guardrail } from "./guardrail.js";
import { kindOfId, type TargetKind } from "./kinds.js";
import type { Logger } from "./log.js";
import type { CallScheduler } from "./pacing.js";
import type { Targets } from "./request.js";
import { asPowerError, type RetryTuning, readWithRetry } from "./retry.js";

export interface ResolveDeps {
  compute: ComputePort;
  scheduler: CallScheduler;
  deadline: Deadline;
  retry: RetryTuning;
  logger: Logger;
  /** Compartments we may list. */
  guardrail: Guardrail;
  /** Up to this many ids (or ids left) are read one by one. */
  smallSet: number;
}

export type Resolution = InstanceView | PowerError;

const KIND_NAME: Record<TargetKind, string> = {
  instance: "instance",
  instance_pool: "instance pool",
  node_pool: "node pool",
  container_instance: "container instance",
};

function notFoundMessage(error: PowerError, id: string): PowerError {
  if (error instanceof ComputeError && error.code === "NotAuthorizedOrNotFound") {
    return new ComputeError(
      "NotAuthorizedOrNotFound",
      `${KIND_NAME[kindOfId(id)]} not found, or the function's principal may not read it (${error.message})`,
      { transient: false, status: error.status, opcRequestId: error.opcRequestId },
    );
  }
  return error;
}

export async function resolveIds(
  ids: readonly string[],
  deps: ResolveDeps,
  onResolved: (id: string, resolution: Resolution) => void,
): Promise<void> {
  const pending = new Set(ids);
  const settle = (id: string, resolution: Resolution): void => {
    if (!pending.delete(id)) return;
    onResolved(id, resolution);
  };
  const getOne = async (id: string): Promise<Resolution> => {
    let resolution: Resolution;
    try {
      resolution = await readWithRetry((signal) => deps.compute.getInstance(id, signal), {
        scheduler: deps.scheduler,
        deadline: deps.deadline,
        tuning: deps.retry,
      });
    } catch (error) {
      resolution = notFoundMessage(asPowerError(error, `reading the ${KIND_NAME[kindOfId(id)]} failed`), id);
    }
    settle(id, resolution);
    return resolution;
  };

  if (ids.length <= deps.smallSet) {
    await Promise.all(ids.map(getOne));
    return;
  }
  const listed = new Set<string>();
  let oneByOne = false;
  while (pending.size > 0) {
    if (oneByOne || pending.size <= deps.smallSet) {
      await Promise.all([...pending].map(getOne));
      return;
    }
    const probe = pending.values().next().value as string;
    const probed = await getOne(probe);
    const compartmentId = probed instanceof PowerError ? undefined : probed.compartmentId;
    if (!compartmentId || listed.has(compartmentId)) continue;
    if (!deps.guardrail.allows(compartmentId)) continue;
    listed.add(compartmentId);
    try {
      const views = await readWithRetry((signal) => deps.compute.listInstances(compartmentId, signal), {
        scheduler: deps.scheduler,
        deadline: deps.deadline,
        tuning: deps.retry,
      });
      let covered = 0;
      for (const view of views) {
        if (pending.has(view.id)) {
          settle(view.id, view);
          covered++;
        }
      }
      if (covered < 2) oneByOne = true;
    } catch (error) {
      deps.logger.debug("listing a compartment failed; reading instances one by one", {
        compartment_id: compartmentId,
        error: asPowerError(error, "list").message,
      });
      oneByOne = true;
    }
  }
}

export function matchesTags(
  view: InstanceView,
  freeform: Record<string, string>,
  defined: Record<string, Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(freeform)) {
    if (!Object.hasOwn(view.freeformTags, key) || view.freeformTags[key] !== value) return false;
  }
  for (const [namespace, tags] of Object.entries(defined)) {
    const actual = Object.hasOwn(view.definedTags, namespace) ? view.definedTags[namespace] : undefined;
    if (!actual) return false;
    for (const [key, value] of Object.entries(tags)) {
      if (!Object.hasOwn(actual, key) || String(actual[key]) !== value) return false;
    }
  }
  return true;
}

function selected(
  views: readonly InstanceView[],
  targets: Extract<Targets, { kind: "compartment" }>,
): InstanceView[] {
  return views.filter(
    (v) =>
      v.compartmentId === targets.compartmentId &&
      v.lifecycleState !== "TERMINATED" &&
      v.lifecycleState !== "TERMINATING" &&
      matchesTags(v, targets.freeformTags, targets.definedTags),
  );
}

export interface CompartmentSelection {
  views: InstanceView[];
  /** Selected instance pools → their selected members (acted on through the pool, not one by one). */
  members: Map<string, string[]>;
}

/**
 * Every matching target of the requested kinds directly in the compartment, TERMINATED/TERMINATING
 * left out; members of a selected instance pool are left to the pool.
 */
export async function resolveCompartment(
  targets: Extract<Targets, { kind: "compartment" }>,
  deps: ResolveDeps,
): Promise<CompartmentSelection> {
  const read = <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> =>
    readWithRetry(fn, { scheduler: deps.scheduler, deadline: deps.deadline, tuning: deps.retry });
  const { compute } = deps;
  const lists = await Promise.all(
    (targets.kinds ?? ["instance"]).map(async (kind) => {
      if (kind === "instance")
        return await read((signal) => compute.listInstances(targets.compartmentId, signal));
      if (!compute.listOfKind) {
        throw new PowerError("InternalError", `this Compute port cannot list ${KIND_NAME[kind]}s`);
      }
      const list = compute.listOfKind.bind(compute);
      return await read((signal) => list(kind, targets.compartmentId, signal));
    }),
  );
  const views = selected(lists.flat(), targets);
  const members = new Map<string, string[]>();
  const pools = views.filter((v) => v.kind === "instance_pool");
  const instanceIds = new Set(views.filter((v) => (v.kind ?? "instance") === "instance").map((v) => v.id));
  if (pools.length === 0 || instanceIds.size === 0 || !compute.poolMembers) return { views, members };
  const poolMembers = compute.poolMembers.bind(compute);
  const taken = new Set<string>();
  for (const pool of pools) {
    const ids = await read((signal) => poolMembers(pool.id, signal));
    const mine = ids.filter((id) => instanceIds.has(id));
    members.set(pool.id, mine);
    for (const id of mine) taken.add(id);
  }
  return { views: views.filter((v) => !taken.has(v.id)), members };
}

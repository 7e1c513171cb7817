/**
 * Runs one request across regions: each target goes to its own region (an OCID's region key; a
 * compartment selection in each region of `regions`), and each region is one batch (batch.ts) with
 * its own pacing and concurrency, all under the invocation's one deadline, run side by side. A slow
 * or failing region is written off at the deadline like any other; its failures are its results'.
 * Every target ends in exactly one result, which names its region.
 */
import { type BatchDeps, type BatchOutcome, runBatch } from "./batch.js";
import type { ComputePort } from "./compute.js";
import { type ErrorBody, InvalidParameterError, PowerError } from "./errors.js";
import { type RegionalCompute, regionOfId } from "./regions.js";
import type { PowerRequest, Targets } from "./request.js";
import { asPowerError } from "./retry.js";
import { buildResult, type InstanceResult } from "./target-result.js";

export interface RegionalDeps extends Omit<BatchDeps, "compute" | "shapes"> {
  regional: RegionalCompute;
  /** The shape catalogue of a region's port (billing-aware stops), if it has one. */
  shapesFor?: (port: ComputePort) => BatchDeps["shapes"];
}

/** A region whose targets could not be selected at all (e.g. its listing was refused). */
export interface RegionError {
  region: string;
  error: ErrorBody;
}

export interface RegionalOutcome extends BatchOutcome {
  regionErrors: RegionError[];
}

type CompartmentTargets = Extract<Targets, { kind: "compartment" }>;

async function batchIn(region: string, request: PowerRequest, deps: RegionalDeps): Promise<BatchOutcome> {
  const compute = deps.regional.forRegion(region);
  const shapes = deps.shapesFor?.(compute);
  const logger = deps.logger.child({ region });
  const outcome = await runBatch(request, { ...deps, logger, compute, ...(shapes ? { shapes } : {}) });
  logger.info("region done", {
    targets: outcome.results.length,
    api_calls: outcome.apiCalls,
    throttled: outcome.pacing?.throttled,
    final_rate: outcome.pacing?.rate,
    pacing_phase: outcome.pacing?.phase,
  });
  return outcome;
}

/** What a region's refusal of the credentials looks like in its results: the region is named. */
function named(region: string, result: InstanceResult): InstanceResult {
  const out: InstanceResult = { ...result, region };
  if (out.error?.code === "AuthenticationFailed" && !out.error.message.includes(region)) {
    out.error = { ...out.error, message: `region ${region} refused the credentials: ${out.error.message}` };
    out.reason = `region ${region} refused the credentials`;
  }
  return out;
}

function unknownRegion(id: string, segment: string, startedAt: number, now: number): InstanceResult {
  const error = new InvalidParameterError(
    `the OCID's region segment ${JSON.stringify(segment)} is not a region key or name this function knows in its realm; nothing was sent`,
    "target_id",
  );
  const result = buildResult({
    id,
    outcome: "failed",
    reason: `unknown region key ${JSON.stringify(segment)}`,
    elapsedMs: now - startedAt,
    view: undefined,
    stateBefore: undefined,
    error,
  });
  return { ...result, region: null };
}

/** Ids: grouped by region, one batch per region, results in request order. */
async function runIds(
  ids: readonly string[],
  request: PowerRequest,
  deps: RegionalDeps,
): Promise<RegionalOutcome> {
  const unique = [...new Set(ids)];
  const groups = new Map<string, string[]>();
  const done = new Map<string, InstanceResult>();
  const now = deps.clock?.now() ?? Date.now();
  for (const id of unique) {
    const where = regionOfId(id, deps.regional);
    if (!where.ok) done.set(id, unknownRegion(id, where.segment, deps.startedAt, now));
    else {
      const group = groups.get(where.region);
      if (group) group.push(id);
      else groups.set(where.region, [id]);
    }
  }
  let apiCalls = 0;
  await Promise.all(
    [...groups].map(async ([region, group]) => {
      try {
        const outcome = await batchIn(region, { ...request, targets: { kind: "ids", ids: group } }, deps);
        apiCalls += outcome.apiCalls;
        for (const r of outcome.results) done.set(r.target_id, named(region, r));
      } catch (error) {
        // The region's batch could not run at all (e.g. its clients could not be made): its targets fail.
        const e = asPowerError(error, `the batch in ${region} failed`);
        for (const id of group) done.set(id, named(region, failedWith(id, e, deps)));
      }
    }),
  );
  const results = unique.map((id) => done.get(id) ?? lost(id, deps));
  return { results, apiCalls, regionErrors: [] };
}

/** A target that failed without a run of its own (its region's batch could not run). */
function failedWith(id: string, error: PowerError, deps: RegionalDeps): InstanceResult {
  return buildResult({
    id,
    outcome: "failed",
    reason: error.message,
    elapsedMs: (deps.clock?.now() ?? Date.now()) - deps.startedAt,
    view: undefined,
    stateBefore: undefined,
    error,
  });
}

/** A target no batch answered for (a bug): still reported, never dropped. */
function lost(id: string, deps: RegionalDeps): InstanceResult {
  deps.logger.error("target without a result", { target_id: id });
  const error = new PowerError(
    "InternalError",
    "no result was recorded for this target; see the function logs",
  );
  return failedWith(id, error, deps);
}

/** The regions a compartment selection covers: named ones checked, "all" read once (Identity). */
async function regionsOf(targets: CompartmentTargets, deps: RegionalDeps): Promise<string[]> {
  const asked = targets.regions;
  if (asked === undefined) return [deps.regional.homeRegion];
  if (asked !== "all") {
    const unknown = asked.findIndex((name) => !deps.regional.isRegion(name));
    if (unknown >= 0) {
      throw new InvalidParameterError(
        `regions[${unknown}] is ${JSON.stringify(asked[unknown])}, which is not an OCI region name this function knows (e.g. us-ashburn-1)`,
        `regions[${unknown}]`,
      );
    }
    return asked;
  }
  const clock = deps.clock;
  const controller = new AbortController();
  const budget = deps.deadlineAt - (clock?.now() ?? Date.now());
  const cancel = clock ? clock.after(Math.max(1, budget), () => controller.abort()) : undefined;
  try {
    const regions = await deps.regional.subscribedRegions(controller.signal);
    if (regions.length === 0)
      throw new PowerError("ServiceError", "the tenancy has no READY region subscription");
    return regions;
  } catch (error) {
    const e = asPowerError(error, "listing the tenancy's regions");
    throw new PowerError(
      e.code,
      `regions "all": listing the tenancy's subscribed regions failed: ${e.message}`,
    );
  } finally {
    cancel?.();
  }
}

/** A compartment selection: one batch per region; a region that cannot be listed is a region error. */
async function runCompartment(
  targets: CompartmentTargets,
  request: PowerRequest,
  deps: RegionalDeps,
): Promise<RegionalOutcome> {
  let regions: string[];
  try {
    regions = await regionsOf(targets, deps);
  } catch (error) {
    return { results: [], apiCalls: 0, regionErrors: [], fatal: asPowerError(error, "choosing the regions") };
  }
  const { regions: _all, ...inRegion } = targets;
  // A region whose batch cannot run at all (e.g. a subscribed region this SDK does not know) is that
  // region's error, like a refused listing.
  const outcomes = await Promise.all(
    regions.map((region) =>
      batchIn(region, { ...request, targets: inRegion }, deps).catch(
        (error: unknown): BatchOutcome => ({
          results: [],
          apiCalls: 0,
          fatal: asPowerError(error, `the batch in ${region} failed`),
        }),
      ),
    ),
  );
  const out: RegionalOutcome = { results: [], apiCalls: 0, regionErrors: [] };
  outcomes.forEach((outcome, i) => {
    const region = regions[i] ?? "";
    out.apiCalls += outcome.apiCalls;
    for (const r of outcome.results) out.results.push(named(region, r));
    if (outcome.fatal) out.regionErrors.push({ region, error: outcome.fatal.toJSON() });
  });
  // Every region failed: the request as a whole failed (one region: exactly the answer it always had).
  const firstFatal = outcomes.find((o) => o.fatal)?.fatal;
  if (firstFatal && out.regionErrors.length === regions.length) out.fatal = firstFatal;
  return out;
}

export async function runRegional(request: PowerRequest, deps: RegionalDeps): Promise<RegionalOutcome> {
  const { targets } = request;
  return targets.kind === "ids"
    ? await runIds(targets.ids, request, deps)
    : await runCompartment(targets, request, deps);
}

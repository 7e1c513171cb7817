/**
 * The FDK handler shared by start-compute and stop-compute. It never throws and never returns
 * undefined (either would reach the FDK's generic 502 or crash the process): every outcome is a
 * structured JSON response, with ctx.httpGateway.statusCode set for HTTP gateway triggers.
 */
import type { FnContext } from "@fnproject/fdk";
import type { BatchTuning } from "./batch.js";
import { type Clock, systemClock } from "./clock.js";
import type { ComputePort, PowerAction } from "./compute.js";
import { type Env, type FunctionConfig, readConfig } from "./config.js";
import { answerByTime, computeDeadline, hardDeadline } from "./deadline.js";
import { PowerError } from "./errors.js";
import { Guardrail } from "./guardrail.js";
import { captureConsole, createLogger, type LineSink, type Logger } from "./log.js";
import { type MetricsConfig, readMetricsConfig } from "./metrics.js";
import { type MetricsFactory, type MetricsSink, reportMetrics } from "./metrics-post.js";
import { type RegionalOutcome, runRegional } from "./regional-batch.js";
import { isRegionalCompute, type RegionalCompute, singleRegion } from "./regions.js";
import { type FunctionKind, type PowerRequest, parseRequest } from "./request.js";
import {
  type Built,
  batchResponse,
  errorResponse,
  type PowerResponse,
  summarize,
  viewOf,
  withRegionErrors,
} from "./response.js";
import { asPowerError } from "./retry.js";
import { ShapeCatalogueCache, type ShapesPort } from "./shapes.js";
import { type RequestRun, runIncoming, type TriggerAnswer } from "./trigger-run.js";
import { classifyBody, type EventRule, readEventRules } from "./triggers.js";

export type { Env } from "./config.js";
/** The OCI adapter gives every region's port; an injected single port (tests) serves one region. */
export type ComputeFactory = (env: Env) => Promise<ComputePort | RegionalCompute>;

export interface HandlerOptions {
  /** Defaults to the OCI adapter (loaded on first use, so invalid input never loads the SDK). */
  createCompute?: ComputeFactory;
  tuning?: Partial<BatchTuning>;
  logSink?: LineSink;
  /** Turn the SDK's console output into JSON log lines (default: when logging to the process). */
  captureConsole?: boolean;
  /** The one clock of every invocation (default: the system clock). */
  clock?: Clock;
  /**
   * Where metrics are posted. Default: OCI Monitoring when createCompute is the default too; with an
   * injected compute port (unit tests, benchmarks) nothing is posted unless a sink is given here.
   */
  createMetrics?: MetricsFactory;
}

export { computeDeadline, DEADLINE_MARGIN_MS, DEFAULT_BUDGET_MS, hardDeadline } from "./deadline.js";

const defaultFactory: ComputeFactory = async (env) => {
  const { createOciCompute } = await import("./oci-compute.js");
  return (await createOciCompute(env)).regional;
};

/** The region an injected single port stands for (it is reported in every result). */
function injectedRegion(env: Env): string {
  return env.OCI_RESOURCE_PRINCIPAL_REGION?.trim() || env.OCI_REGION?.trim() || "local";
}

const defaultMetricsFactory: MetricsFactory = async (env) => {
  const { createOciMetrics } = await import("./metrics-post.js");
  return await createOciMetrics(env);
};

function safeConfig(ctx: FnContext | undefined): Env {
  try {
    const c = ctx?.config;
    if (c && typeof c === "object") return c;
  } catch {
    // fall through
  }
  return { ...process.env };
}

function safeHeader(ctx: FnContext | undefined, name: string): string | null {
  try {
    return ctx?.getHeader(name) ?? null;
  } catch {
    return null;
  }
}

function safeDeadline(ctx: FnContext | undefined): Date | null {
  try {
    return ctx?.deadline ?? null;
  } catch {
    return null;
  }
}

/** What one invocation has once its configuration and request are valid. */
interface Invocation {
  env: Env;
  config: FunctionConfig;
  request: PowerRequest;
  logger: Logger;
  startedAt: number;
  deadlineAt: number;
  answerBy: number;
}

interface Shared {
  fnName: string;
  kind: FunctionKind;
  defaultAction: PowerAction;
  clock: Clock;
  options: HandlerOptions;
  getCompute: (env: Env) => Promise<RegionalCompute>;
  /** The process's shape catalogues (one per Compute client), kept across invocations for an hour. */
  shapesFor: (port: ComputePort) => { cache: ShapeCatalogueCache; port: ShapesPort } | undefined;
  /** undefined: metrics are not posted (an injected compute port without a metrics sink). */
  getMetrics: ((env: Env) => Promise<MetricsSink>) | undefined;
}

function isShapesPort(port: ComputePort): port is ComputePort & ShapesPort {
  return typeof (port as Partial<ShapesPort>).listShapes === "function";
}

/** What every invocation reads first: configuration (function, metrics, event rules) and its logger. */
interface Setup {
  env: Env;
  config: FunctionConfig;
  metrics: MetricsConfig;
  rules: EventRule[];
  logger: Logger;
}

function loggerFor(shared: Shared, callId: string | undefined, level?: FunctionConfig["logLevel"]): Logger {
  const sink = shared.options.logSink;
  return createLogger({
    ...(level ? { level } : {}),
    base: { fn: shared.fnName, call_id: callId },
    ...(sink ? { sink } : {}),
  });
}

/** Reads the configuration once per invocation; a bad value is answered at once, naming its key. */
function readSetup(shared: Shared, ctx: FnContext | undefined): Setup | Built {
  const env = safeConfig(ctx);
  const callId = safeHeader(ctx, "Fn-Call-Id") ?? undefined;
  try {
    const config = readConfig(env);
    const metrics = readMetricsConfig(env);
    const rules = readEventRules(env.EVENT_RULES, shared.kind);
    return { env, config, metrics, rules, logger: loggerFor(shared, callId, config.logLevel) };
  } catch (error) {
    const e = asPowerError(error, "configuration");
    loggerFor(shared, callId).error("invalid configuration", {
      error_code: e.code,
      error_message: e.message,
    });
    return errorResponse(shared.defaultAction, e);
  }
}

/** Reads one request; a bad one is answered at once. */
function prepare(
  shared: Shared,
  setup: Setup,
  input: unknown,
  ctx: FnContext | undefined,
  startedAt: number,
  logger: Logger,
): Invocation | Built {
  const { env, config } = setup;
  let request: PowerRequest;
  try {
    request = parseRequest(input, shared.kind);
  } catch (error) {
    const e = asPowerError(error, "parsing the request");
    logger.warn("invalid request", { error_code: e.code, error_message: e.message });
    return errorResponse(shared.defaultAction, e);
  }
  const fnDeadline = safeDeadline(ctx);
  const deadlineAt = computeDeadline(startedAt, fnDeadline, request.timeoutSeconds);
  const answerBy = answerByTime(deadlineAt, hardDeadline(startedAt, fnDeadline));
  return { env, config, request, logger, startedAt, deadlineAt, answerBy };
}

/** The OCI client, or an error answer if it cannot be set up before the deadline. */
async function computeFor(shared: Shared, inv: Invocation): Promise<RegionalCompute | Built> {
  let cancel: (() => void) | undefined;
  try {
    const budget = new Promise<never>((_, reject) => {
      cancel = shared.clock.after(inv.deadlineAt - shared.clock.now(), () =>
        reject(new PowerError("DeadlineExceeded", "the OCI client could not be set up before the deadline")),
      );
    });
    return await Promise.race([shared.getCompute(inv.env), budget]);
  } catch (error) {
    const e = asPowerError(error, "setting up the OCI client");
    inv.logger.error("OCI client setup failed", { error_code: e.code, error_message: e.message });
    return errorResponse(inv.request.action, e, inv.request.dryRun);
  } finally {
    cancel?.();
  }
}

async function execute(shared: Shared, inv: Invocation): Promise<Built> {
  const { request, logger, deadlineAt, startedAt } = inv;
  const { targets } = request;
  logger.info("request", {
    action: request.action,
    dry_run: request.dryRun,
    wait: request.wait,
    targets: targets.kind === "ids" ? targets.ids.length : undefined,
    compartment_id: targets.kind === "compartment" ? targets.compartmentId : undefined,
    budget_ms: deadlineAt - startedAt,
  });
  if (targets.kind === "compartment") {
    const refused = new Guardrail(inv.config.allowedCompartmentIds).refuseCompartment(targets.compartmentId);
    if (refused) {
      logger.warn("refused by the guardrail", { compartment_id: targets.compartmentId });
      return errorResponse(request.action, refused, request.dryRun);
    }
  }
  const regional = await computeFor(shared, inv);
  if (isBuilt(regional)) return regional;
  const outcome = await runRegional(request, {
    regional,
    config: inv.config,
    logger,
    deadlineAt,
    startedAt,
    answerBy: inv.answerBy,
    clock: shared.clock,
    shapesFor: shared.shapesFor,
    ...(shared.options.tuning ? { tuning: shared.options.tuning } : {}),
  });
  if (outcome.fatal) return fatalAnswer(request, outcome.fatal, outcome.regionErrors, logger);
  const built = viewOf(
    withRegionErrors(batchResponse(request.action, request.dryRun, outcome.results), outcome.regionErrors),
    request.results,
    request.wait,
  );
  logger.info("done", {
    message: built.body.message,
    ok: built.body.ok,
    api_calls: outcome.apiCalls,
    elapsed_ms: shared.clock.now() - startedAt,
  });
  return built;
}

/** The targets could not be selected at all: an error answer with an empty summary. */
function fatalAnswer(
  request: PowerRequest,
  fatal: PowerError,
  regionErrors: RegionalOutcome["regionErrors"],
  logger: Logger,
): Built {
  logger.error("targets could not be resolved", {
    error_code: fatal.code,
    error_message: fatal.message,
    opc_request_id: fatal.opcRequestId,
  });
  const built = errorResponse(request.action, fatal, request.dryRun);
  built.body.summary = summarize([]);
  built.body.results = [];
  if (regionErrors.length > 1) built.body.region_errors = regionErrors;
  return built;
}

/** An answer already built (an error found while preparing), as opposed to the value asked for. */
function isBuilt<T extends object>(value: T | Built): value is Built {
  return "gatewayStatus" in value && "body" in value;
}

/** One request body: parsed, then run against the invocation's deadline. */
async function runRequest(
  shared: Shared,
  setup: Setup,
  body: unknown,
  ctx: FnContext | undefined,
  startedAt: number,
  logger: Logger,
): Promise<RequestRun> {
  const prepared = prepare(shared, setup, body, ctx, startedAt, logger);
  if (isBuilt(prepared)) return { built: prepared };
  return { built: await execute(shared, prepared), request: prepared.request };
}

/** Tells a direct request, an event or a batch apart; a body none of them fits is InvalidParameter. */
async function answer(
  shared: Shared,
  setup: Setup,
  input: unknown,
  ctx: FnContext | undefined,
  startedAt: number,
): Promise<TriggerAnswer> {
  let incoming: ReturnType<typeof classifyBody>;
  try {
    incoming = classifyBody(input, setup.rules, shared.kind);
  } catch (error) {
    const e = asPowerError(error, "reading the body");
    setup.logger.warn("invalid request", { error_code: e.code, error_message: e.message });
    return {
      built: errorResponse(shared.defaultAction, e),
      action: shared.defaultAction,
      schedule: undefined,
    };
  }
  return await runIncoming(incoming, {
    kind: shared.kind,
    defaultAction: shared.defaultAction,
    clock: shared.clock,
    deadlineAt: computeDeadline(startedAt, safeDeadline(ctx)),
    logger: setup.logger,
    run: (body, logger) => runRequest(shared, setup, body, ctx, startedAt, logger),
  });
}

/** The answer, then its metrics (bounded by the hard deadline; never changes the answer). */
async function answerAndReport(
  shared: Shared,
  setup: Setup,
  input: unknown,
  ctx: FnContext | undefined,
  startedAt: number,
): Promise<Built> {
  const result = await answer(shared, setup, input, ctx, startedAt);
  if (shared.getMetrics) {
    await reportMetrics({
      config: setup.metrics,
      env: setup.env,
      fnName: shared.fnName,
      action: result.action,
      schedule: result.schedule,
      answer: result.built.body,
      clock: shared.clock,
      hardDeadlineAt: hardDeadline(startedAt, safeDeadline(ctx)),
      logger: setup.logger,
      getSink: shared.getMetrics,
    });
  }
  return result.built;
}

/** The last line of defence: an unexpected throw still gets a structured answer. */
function unexpected(shared: Shared, error: unknown): Built {
  const e =
    error instanceof PowerError
      ? error
      : new PowerError("InternalError", "unexpected failure; see the function logs");
  try {
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "unexpected failure", fn: shared.fnName, error_message: error instanceof Error ? error.message : String(error) })}\n`,
    );
  } catch {
    // nothing left to report with
  }
  return errorResponse(shared.defaultAction, e);
}

export function makeHandler(
  kind: FunctionKind,
  options: HandlerOptions = {},
): (input: unknown, ctx: FnContext) => Promise<PowerResponse> {
  const factory = options.createCompute ?? defaultFactory;
  const fnName = kind === "START" ? "start-compute" : "stop-compute";
  const defaultAction: PowerAction = kind === "START" ? "START" : "SOFTSTOP";
  const clock = options.clock ?? systemClock;
  let compute: Promise<RegionalCompute> | undefined;
  if (options.captureConsole ?? !options.logSink) {
    captureConsole(
      createLogger({ base: { fn: fnName }, ...(options.logSink ? { sink: options.logSink } : {}) }),
    );
  }
  const getCompute = (env: Env): Promise<RegionalCompute> => {
    if (!compute) {
      const created = factory(env).then((port) =>
        isRegionalCompute(port) ? port : singleRegion(port, injectedRegion(env)),
      );
      compute = created;
      // A failed setup is retried on the next invocation (e.g. the metadata service was slow).
      created.catch(() => {
        if (compute === created) compute = undefined;
      });
    }
    return compute;
  };
  const catalogues = new WeakMap<ComputePort, ShapeCatalogueCache>();
  const shapesFor = (port: ComputePort) => {
    if (!isShapesPort(port)) return undefined;
    let cache = catalogues.get(port);
    if (!cache) {
      cache = new ShapeCatalogueCache(port, clock);
      catalogues.set(port, cache);
    }
    return { cache, port };
  };
  const metricsFactory = options.createMetrics ?? (options.createCompute ? undefined : defaultMetricsFactory);
  let metrics: Promise<MetricsSink> | undefined;
  const getMetrics = metricsFactory
    ? (env: Env): Promise<MetricsSink> => {
        if (!metrics) {
          const created = metricsFactory(env);
          metrics = created;
          created.catch(() => {
            if (metrics === created) metrics = undefined;
          });
        }
        return metrics;
      }
    : undefined;
  const shared: Shared = { fnName, kind, defaultAction, clock, options, getCompute, getMetrics, shapesFor };

  return async (input: unknown, ctx: FnContext): Promise<PowerResponse> => {
    const startedAt = clock.now();
    let built: Built;
    try {
      const setup = readSetup(shared, ctx);
      built = isBuilt(setup) ? setup : await answerAndReport(shared, setup, input, ctx, startedAt);
    } catch (error) {
      built = unexpected(shared, error);
    }
    try {
      ctx.httpGateway.statusCode = built.gatewayStatus;
    } catch {
      // no gateway context (direct invocation in a test): the body carries everything
    }
    return built.body;
  };
}

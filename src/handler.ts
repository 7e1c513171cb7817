/**
 * The FDK handler shared by start-compute and stop-compute. It never throws and never returns
 * undefined (either would reach the FDK's generic 502 or crash the process): every outcome is a
 * structured JSON response, with ctx.httpGateway.statusCode set for HTTP gateway triggers.
 */
import type { FnContext } from "@fnproject/fdk";
import { type BatchTuning, runBatch } from "./batch.js";
import type { ComputePort, PowerAction } from "./compute.js";
import { type FunctionConfig, readConfig } from "./config.js";
import { PowerError } from "./errors.js";
import { captureConsole, createLogger, type LineSink, type Logger } from "./log.js";
import { type FunctionKind, type PowerRequest, parseRequest } from "./request.js";
import { type Built, batchResponse, errorResponse, type PowerResponse } from "./response.js";
import { asPowerError } from "./retry.js";

export type Env = Record<string, string | undefined>;
export type ComputeFactory = (env: Env) => Promise<ComputePort>;

export interface HandlerOptions {
  /** Defaults to the OCI adapter (loaded on first use, so invalid input never loads the SDK). */
  createCompute?: ComputeFactory;
  tuning?: Partial<BatchTuning>;
  logSink?: LineSink;
  /** Turn the SDK's console output into JSON log lines (default: when logging to the process). */
  captureConsole?: boolean;
  now?: () => number;
}

/** Used when the invocation has no usable Fn-Deadline header. */
export const DEFAULT_BUDGET_MS = 30_000;
/** Answer this long before Fn-Deadline (less when the whole budget is short). */
export const DEADLINE_MARGIN_MS = 1500;

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

const defaultFactory: ComputeFactory = async (env) => {
  const { createOciCompute } = await import("./oci-compute.js");
  return (await createOciCompute(env)).compute;
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

export function makeHandler(
  kind: FunctionKind,
  options: HandlerOptions = {},
): (input: unknown, ctx: FnContext) => Promise<PowerResponse> {
  const factory = options.createCompute ?? defaultFactory;
  const fnName = kind === "START" ? "start-compute" : "stop-compute";
  const defaultAction: PowerAction = kind === "START" ? "START" : "SOFTSTOP";
  const now = options.now ?? Date.now;
  let compute: Promise<ComputePort> | undefined;
  if (options.captureConsole ?? !options.logSink) {
    captureConsole(
      createLogger({ base: { fn: fnName }, ...(options.logSink ? { sink: options.logSink } : {}) }),
    );
  }

  const getCompute = (env: Env): Promise<ComputePort> => {
    if (!compute) {
      const created = factory(env);
      compute = created;
      // A failed setup is retried on the next invocation (e.g. the metadata service was slow).
      created.catch(() => {
        if (compute === created) compute = undefined;
      });
    }
    return compute;
  };

  const run = async (input: unknown, ctx: FnContext | undefined, startedAt: number): Promise<Built> => {
    const env = safeConfig(ctx);
    const callId = safeHeader(ctx, "Fn-Call-Id") ?? undefined;
    let logger: Logger = createLogger({
      base: { fn: fnName, call_id: callId },
      ...(options.logSink ? { sink: options.logSink } : {}),
    });
    let config: FunctionConfig;
    try {
      config = readConfig(env);
    } catch (error) {
      const e = asPowerError(error, "configuration");
      logger.error("invalid configuration", { error_code: e.code, error_message: e.message });
      return errorResponse(defaultAction, e);
    }
    logger = createLogger({
      level: config.logLevel,
      base: { fn: fnName, call_id: callId },
      ...(options.logSink ? { sink: options.logSink } : {}),
    });

    let request: PowerRequest;
    try {
      request = parseRequest(input, kind);
    } catch (error) {
      const e = asPowerError(error, "parsing the request");
      logger.warn("invalid request", { error_code: e.code, error_message: e.message });
      return errorResponse(defaultAction, e);
    }
    const fnDeadline = safeDeadline(ctx);
    const deadlineAt = computeDeadline(startedAt, fnDeadline, request.timeoutSeconds);
    // Whatever still runs at deadlineAt is written off in time to answer before Fn-Deadline.
    const hard = hardDeadline(startedAt, fnDeadline);
    const answerBy = Math.max(deadlineAt, deadlineAt + Math.min(400, (hard - deadlineAt) / 2));
    const { targets } = request;
    logger.info("request", {
      action: request.action,
      dry_run: request.dryRun,
      wait: request.wait,
      targets: targets.kind === "ids" ? targets.ids.length : undefined,
      compartment_id: targets.kind === "compartment" ? targets.compartmentId : undefined,
      budget_ms: deadlineAt - startedAt,
    });

    const allowed = config.allowedCompartmentIds;
    if (targets.kind === "compartment" && allowed && !allowed.has(targets.compartmentId)) {
      const e = new PowerError(
        "Forbidden",
        `compartment ${targets.compartmentId} is not in ALLOWED_COMPARTMENT_IDS; nothing was touched`,
      );
      logger.warn("refused by the guardrail", { compartment_id: targets.compartmentId });
      return errorResponse(request.action, e, request.dryRun);
    }

    let port: ComputePort;
    let timer: NodeJS.Timeout | undefined;
    try {
      const budget = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new PowerError("DeadlineExceeded", "the OCI client could not be set up before the deadline"),
            ),
          Math.max(0, deadlineAt - now()),
        );
      });
      port = await Promise.race([getCompute(env), budget]);
    } catch (error) {
      const e = asPowerError(error, "setting up the OCI client");
      logger.error("OCI client setup failed", { error_code: e.code, error_message: e.message });
      return errorResponse(request.action, e, request.dryRun);
    } finally {
      clearTimeout(timer);
    }

    const outcome = await runBatch(request, {
      compute: port,
      config,
      logger,
      deadlineAt,
      startedAt,
      answerBy,
      ...(options.tuning ? { tuning: options.tuning } : {}),
    });
    if (outcome.fatal) {
      logger.error("targets could not be resolved", {
        error_code: outcome.fatal.code,
        error_message: outcome.fatal.message,
        opc_request_id: outcome.fatal.opcRequestId,
      });
      const built = errorResponse(request.action, outcome.fatal, request.dryRun);
      built.body.summary = { requested: 0, changed: 0, unchanged: 0, in_progress: 0, failed: 0, planned: 0 };
      built.body.results = [];
      return built;
    }
    const built = batchResponse(request.action, request.dryRun, outcome.results);
    logger.info("done", {
      message: built.body.message,
      ok: built.body.ok,
      api_calls: outcome.apiCalls,
      elapsed_ms: now() - startedAt,
    });
    return built;
  };

  return async (input: unknown, ctx: FnContext): Promise<PowerResponse> => {
    const startedAt = now();
    let built: Built;
    try {
      built = await run(input, ctx, startedAt);
    } catch (error) {
      const e =
        error instanceof PowerError
          ? error
          : new PowerError("InternalError", "unexpected failure; see the function logs");
      try {
        process.stderr.write(
          `${JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "unexpected failure", fn: fnName, error_message: error instanceof Error ? error.message : String(error) })}\n`,
        );
      } catch {
        // nothing left to report with
      }
      built = errorResponse(defaultAction, e);
    }
    try {
      ctx.httpGateway.statusCode = built.gatewayStatus;
    } catch {
      // no gateway context (direct invocation in a test): the body carries everything
    }
    return built.body;
  };
}

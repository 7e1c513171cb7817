/**
 * Runs what triggers.ts classified: a direct request, an OCI Events envelope mapped by EVENT_RULES,
 * or a Connector Hub batch. A batch's messages run one after another against the invocation's one
 * deadline (no message starts once it has passed) and each gets its own answer; a bad message is
 * reported in its place and never spoils the others. The targets of one batch are bounded like one
 * request's: explicit ids across all messages at most MAX_INSTANCE_IDS, and once the targets already
 * resolved reach that bound no further message runs.
 */
import type { Clock } from "./clock.js";
import type { PowerAction } from "./compute.js";
import { InvalidParameterError, PowerError } from "./errors.js";
import type { Logger } from "./log.js";
import { type FunctionKind, MAX_INSTANCE_IDS, type PowerRequest, parseRequest } from "./request.js";
import {
  type Built,
  errorResponse,
  type MessageAnswer,
  type PowerResponse,
  type Summary,
  summarize,
} from "./response.js";
import { asPowerError } from "./retry.js";
import type { Incoming, MessageInput } from "./triggers.js";

/** What one request's run gives back: the answer and, when the request was valid, the request. */
export interface RequestRun {
  built: Built;
  request?: PowerRequest;
}

export interface TriggerDeps {
  kind: FunctionKind;
  defaultAction: PowerAction;
  clock: Clock;
  /** Epoch ms: the invocation's working deadline; no message of a batch starts at or after it. */
  deadlineAt: number;
  logger: Logger;
  /** Runs one request body (parse, then act); never throws. */
  run: (body: unknown, logger: Logger) => Promise<RequestRun>;
}

/** The answer, with the action and schedule the invocation's metrics are labelled with. */
export interface TriggerAnswer {
  built: Built;
  action: PowerAction;
  schedule: string | undefined;
}

export async function runIncoming(incoming: Incoming, deps: TriggerDeps): Promise<TriggerAnswer> {
  switch (incoming.kind) {
    case "direct":
      return labelled(await deps.run(incoming.body, deps.logger), deps.defaultAction);
    case "event": {
      deps.logger.info("event mapped", { rule: incoming.rule, event_type: incoming.eventType });
      const run = await deps.run(incoming.body, deps.logger.child({ rule: incoming.rule }));
      run.built.body.trigger = { kind: "event", rule: incoming.rule, event_type: incoming.eventType };
      return labelled(run, deps.defaultAction);
    }
    case "batch":
      return await runMessages(incoming.messages, deps);
    default: {
      const unreachable: never = incoming;
      return unreachable;
    }
  }
}

function labelled(run: RequestRun, fallback: PowerAction): TriggerAnswer {
  return { built: run.built, action: run.request?.action ?? fallback, schedule: run.request?.schedule };
}

/** Why a valid message is not run: the batch's target bound or the deadline; undefined: run it. */
function refusal(request: PowerRequest, index: number, targetsSoFar: number, deps: TriggerDeps) {
  const field = `body[${index}]`;
  const ids = request.targets.kind === "ids" ? request.targets.ids.length : 0;
  if (targetsSoFar + ids > MAX_INSTANCE_IDS || (ids === 0 && targetsSoFar >= MAX_INSTANCE_IDS)) {
    return new InvalidParameterError(
      `${field} was not run: the batch's messages would name more than ${MAX_INSTANCE_IDS} targets in total (${targetsSoFar} already, ${ids === 0 ? "a compartment selection" : `${ids} more`}); lower the connector's batch size`,
      field,
    );
  }
  if (deps.clock.now() >= deps.deadlineAt) {
    return new PowerError(
      "DeadlineExceeded",
      `${field} was not run: the invocation's deadline came before it could start; nothing was done for it`,
    );
  }
  return undefined;
}

async function runMessage(
  m: MessageInput,
  targetsSoFar: number,
  deps: TriggerDeps,
): Promise<{ answer: MessageAnswer; request?: PowerRequest }> {
  const where = m.id === undefined ? { index: m.index } : { index: m.index, id: m.id };
  const logger = deps.logger.child({ message_index: m.index, message_id: m.id });
  const fail = (e: PowerError): { answer: MessageAnswer } => {
    logger.warn("message not run", { error_code: e.code, error_message: e.message });
    return { answer: { ...where, ...errorResponse(deps.defaultAction, e).body } };
  };
  if (m.error) return fail(m.error);
  let request: PowerRequest;
  try {
    request = parseRequest(m.body, deps.kind);
  } catch (error) {
    const e = asPowerError(error, "parsing the message");
    const field =
      e instanceof InvalidParameterError && e.field ? `body[${m.index}].${e.field}` : `body[${m.index}]`;
    return fail(
      e.code === "InvalidParameter" ? new InvalidParameterError(`body[${m.index}]: ${e.message}`, field) : e,
    );
  }
  const refused = refusal(request, m.index, targetsSoFar, deps);
  if (refused) return fail(refused);
  const run = await deps.run(m.body, logger);
  return { answer: { ...where, ...run.built.body }, request };
}

/** Sums every numeric count of the messages' summaries (outcomes added later are summed too). */
function totalSummary(answers: readonly MessageAnswer[]): Summary {
  const total: Record<string, number> = { ...summarize([]) };
  for (const a of answers) {
    for (const [key, value] of Object.entries(a.summary ?? {})) {
      if (typeof value === "number") total[key] = (total[key] ?? 0) + value;
    }
  }
  return total as unknown as Summary;
}

/** The one value every element shares, else undefined. */
function common<T>(values: readonly T[]): T | undefined {
  const first = values[0];
  return values.length > 0 && values.every((v) => v === first) ? first : undefined;
}

export async function runMessages(
  messages: readonly MessageInput[],
  deps: TriggerDeps,
): Promise<TriggerAnswer> {
  const answers: MessageAnswer[] = [];
  const requests: PowerRequest[] = [];
  let targets = 0;
  for (const m of messages) {
    const { answer, request } = await runMessage(m, targets, deps);
    answers.push(answer);
    if (request) requests.push(request);
    targets += answer.summary?.requested ?? 0;
  }
  const action = common(requests.map((r) => r.action)) ?? deps.defaultAction;
  const failed = answers.filter((a) => !a.ok).length;
  const summary = totalSummary(answers);
  const body: PowerResponse = {
    action,
    ok: failed === 0,
    message: `${action}: ${answers.length} message(s): ${answers.length - failed} ok, ${failed} failed; ${summary.requested} target(s) requested, ${summary.changed} changed, ${summary.failed} failed`,
    summary,
    messages: answers,
    trigger: { kind: "batch", messages: answers.length, failed_messages: failed },
  };
  const allRefused = answers.every((a) => a.error?.code === "InvalidParameter");
  const gatewayStatus = failed === 0 ? (summary.in_progress > 0 ? 202 : 200) : allRefused ? 400 : 502;
  deps.logger.info("batch done", { messages: answers.length, failed_messages: failed, ok: body.ok });
  return { built: { body, gatewayStatus }, action, schedule: common(requests.map((r) => r.schedule)) };
}

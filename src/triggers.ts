/**
 * What arrived as the body: a request of our own, a Connector Hub batch (a JSON array of Queue or
 * Streaming messages, each carrying one request), or an OCI Events envelope that EVENT_RULES maps to a
 * request. Pure: no I/O, no clock. The request inside each is still validated by parseRequest, so a
 * trigger can never carry more than a direct invocation could.
 */
import { InvalidParameterError, PowerError } from "./errors.js";
import { describeValue, type FunctionKind, MAX_BODY_BYTES, parseRequest } from "./request.js";

/** Connector Hub hands a function at most this many messages per call in practice; more is refused. */
export const MAX_MESSAGES = 100;

export interface MessageInput {
  index: number;
  /** The message's own id (Queue `id`, Streaming `partition:offset`), when it carries one. */
  id?: string;
  /** The decoded request body, or why it could not be decoded. */
  body?: unknown;
  error?: InvalidParameterError;
}

export type Incoming =
  | { kind: "direct"; body: unknown }
  | { kind: "event"; body: unknown; rule: string; eventType: string }
  | { kind: "batch"; messages: MessageInput[] };

export interface EventRule {
  name: string;
  eventTypes: string[];
  /** Dotted paths into the envelope (e.g. data.additionalDetails.bucketName) and the exact value each must have. */
  match: Record<string, string>;
  /** Which function the rule is for; undefined: both. */
  fn: FunctionKind | undefined;
  request: Record<string, unknown>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses the raw body once; what is not an array or an event goes on to parseRequest untouched. */
export function classifyBody(input: unknown, rules: readonly EventRule[], fn: FunctionKind): Incoming {
  const value = peekJson(input);
  if (Array.isArray(value)) return { kind: "batch", messages: readMessages(value) };
  if (isObject(value) && isEventEnvelope(value)) return routeEvent(value, rules, fn);
  return { kind: "direct", body: value === undefined ? input : value };
}

/** The JSON value of a textual body, or undefined (parseRequest then reports exactly what is wrong). */
function peekJson(input: unknown): unknown {
  if (typeof input !== "string" && !Buffer.isBuffer(input)) return input;
  const bytes = typeof input === "string" ? Buffer.byteLength(input, "utf8") : input.length;
  if (bytes > MAX_BODY_BYTES) return undefined;
  try {
    return JSON.parse(typeof input === "string" ? input : input.toString("utf8"));
  } catch {
    return undefined;
  }
}

function readMessages(list: unknown[]): MessageInput[] {
  if (list.length === 0) {
    throw new InvalidParameterError(
      "the body is an empty array; a Connector Hub batch carries at least one message",
      "body",
    );
  }
  if (list.length > MAX_MESSAGES) {
    throw new InvalidParameterError(
      `the body is a batch of ${list.length} messages; at most ${MAX_MESSAGES} are accepted in one call (lower the connector's batch size)`,
      "body",
    );
  }
  const messages = list.map((item, index) => readMessage(item, index));
  if (messages.every((m) => m.error)) {
    const first = messages[0]?.error;
    throw new InvalidParameterError(
      `the body is an array, but no element is a Connector Hub message (an object with a "content" or "value" string holding a request); ${first?.message ?? ""}`,
      "body",
    );
  }
  return messages;
}

function messageId(item: Record<string, unknown>): string | undefined {
  const id = item.id;
  if (typeof id === "string" || typeof id === "number") return String(id).slice(0, 128);
  if (item.partition !== undefined && item.offset !== undefined) {
    return `${String(item.partition).slice(0, 32)}:${String(item.offset).slice(0, 32)}`;
  }
  return undefined;
}

function readMessage(item: unknown, index: number): MessageInput {
  const field = `body[${index}]`;
  if (!isObject(item)) {
    return { index, error: messageError(field, `must be a message object, got ${describeValue(item)}`) };
  }
  const id = messageId(item);
  const base = id === undefined ? { index } : { index, id };
  const raw = typeof item.content === "string" ? item.content : item.value;
  if (typeof raw !== "string") {
    return {
      ...base,
      error: messageError(
        field,
        `has no "content" (Queue) or "value" (Streaming) string; each message must carry one request as JSON text or base64 JSON`,
      ),
    };
  }
  const body = decodeContent(raw);
  if (body === undefined) {
    return {
      ...base,
      error: messageError(
        `${field}.content`,
        `is neither JSON nor base64-encoded JSON (${describeValue(raw)}); expected a request such as {"instance_id": "ocid1.instance..."}`,
      ),
    };
  }
  return { ...base, body };
}

function messageError(field: string, message: string): InvalidParameterError {
  return new InvalidParameterError(`${field} ${message}`, field);
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Queue delivers the text it was given (often JSON); Streaming delivers base64. Both are accepted. */
export function decodeContent(raw: string): unknown {
  const text = raw.trim();
  if (text.startsWith("{")) return tryJson(text);
  if (!BASE64.test(text) || text.length > MAX_BODY_BYTES) return undefined;
  const decoded = Buffer.from(text, "base64").toString("utf8").trim();
  return decoded.startsWith("{") ? tryJson(decoded) : undefined;
}

function tryJson(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** OCI Events (CloudEvents 0.1: eventType, cloudEventsVersion) or CloudEvents 1.0 (specversion, type). */
function isEventEnvelope(value: Record<string, unknown>): boolean {
  return (
    (typeof value.eventType === "string" && ("cloudEventsVersion" in value || "eventTypeVersion" in value)) ||
    (typeof value.specversion === "string" && typeof value.type === "string")
  );
}

function eventTypeOf(event: Record<string, unknown>): string {
  const t = typeof event.eventType === "string" ? event.eventType : event.type;
  return typeof t === "string" ? t : "";
}

/** The string at a dotted path (data.additionalDetails.bucketName), or undefined. */
export function valueAt(root: unknown, path: string): string | undefined {
  let node: unknown = root;
  for (const part of path.split(".")) {
    if (!isObject(node) || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return typeof node === "string" ? node : undefined;
}

function routeEvent(event: Record<string, unknown>, rules: readonly EventRule[], fn: FunctionKind): Incoming {
  const eventType = eventTypeOf(event);
  const rule = rules.find(
    (r) =>
      (r.fn === undefined || r.fn === fn) &&
      r.eventTypes.includes(eventType) &&
      Object.entries(r.match).every(([path, want]) => valueAt(event, path) === want),
  );
  if (!rule) {
    const shown = JSON.stringify(eventType.slice(0, 120));
    throw new InvalidParameterError(
      rules.length === 0
        ? `an OCI Events envelope (eventType ${shown}) arrived, but EVENT_RULES is not set, so no event maps to a request; nothing was done`
        : `the event (eventType ${shown}, resource ${JSON.stringify((valueAt(event, "data.resourceName") ?? "?").slice(0, 80))}) matches none of the ${rules.length} EVENT_RULES (${rules.map((r) => r.name).join(", ")}); nothing was done`,
      "eventType",
    );
  }
  return { kind: "event", body: rule.request, rule: rule.name, eventType };
}

function configError(message: string): PowerError {
  return new PowerError("InvalidConfiguration", `configuration EVENT_RULES ${message}`);
}

/** Reads EVENT_RULES (a JSON array) once per invocation; a bad rule names its index and field. */
export function readEventRules(raw: string | undefined, fn: FunctionKind): EventRule[] {
  if (raw === undefined || raw.trim() === "") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw configError(
      `is not valid JSON (${error instanceof Error ? error.message.slice(0, 80) : "unparseable"})`,
    );
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > 50) {
    throw configError(`must be a JSON array of 1 to 50 rules, got ${describeValue(parsed)}`);
  }
  return parsed.map((item, i) => readRule(item, i, fn));
}

const RULE_KEYS = ["name", "event_type", "match", "function", "request"];

function readRule(item: unknown, i: number, fn: FunctionKind): EventRule {
  const at = `[${i}]`;
  if (!isObject(item)) throw configError(`${at} must be an object, got ${describeValue(item)}`);
  const unknown = Object.keys(item).filter((k) => !RULE_KEYS.includes(k));
  if (unknown.length > 0) {
    throw configError(
      `${at} has unknown key ${JSON.stringify(unknown[0]?.slice(0, 40))}; expected ${RULE_KEYS.join(", ")}`,
    );
  }
  const types = typeof item.event_type === "string" ? [item.event_type] : item.event_type;
  if (
    !Array.isArray(types) ||
    types.length === 0 ||
    !types.every((t) => typeof t === "string" && t.length > 0)
  ) {
    throw configError(
      `${at}.event_type must be an event type string or a non-empty list of them, e.g. "com.oraclecloud.objectstorage.createobject"`,
    );
  }
  const match = item.match ?? {};
  if (!isObject(match) || !Object.values(match).every((v) => typeof v === "string")) {
    throw configError(
      `${at}.match must be an object of dotted paths to strings, e.g. {"data.additionalDetails.bucketName": "uploads"}`,
    );
  }
  const ruleFn = readRuleFunction(item.function, at);
  const name =
    typeof item.name === "string" && item.name.trim() !== "" ? item.name.trim().slice(0, 64) : `rule ${i}`;
  if (!isObject(item.request))
    throw configError(`${at}.request must be a request object, e.g. {"instance_id": "ocid1.instance..."}`);
  if (ruleFn === undefined || ruleFn === fn) {
    try {
      parseRequest(item.request, fn);
    } catch (error) {
      throw configError(
        `${at}.request is not a valid request: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return {
    name,
    eventTypes: types as string[],
    match: match as Record<string, string>,
    fn: ruleFn,
    request: item.request,
  };
}

function readRuleFunction(value: unknown, at: string): FunctionKind | undefined {
  if (value === undefined) return undefined;
  if (value === "start-compute") return "START";
  if (value === "stop-compute") return "STOP";
  throw configError(
    `${at}.function must be "start-compute" or "stop-compute" (or left out for both), got ${describeValue(value)}`,
  );
}

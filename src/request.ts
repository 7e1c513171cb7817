/**
 * Parses the raw invocation body into a typed PowerRequest, or throws InvalidParameterError naming
 * the field and what is expected. Hand-written checks (not a schema library) so that every message is
 * specific, near-miss keys get a suggestion, and work stays bounded on hostile input.
 */

import type { PowerAction } from "./compute.js";
import { InvalidParameterError } from "./errors.js";
import { isTargetKind, kindOfOcidType, TARGET_KINDS, type TargetKind } from "./kinds.js";
import { checkOcid } from "./ocid.js";

export type FunctionKind = "START" | "STOP";

export type Targets =
  | { kind: "ids"; ids: string[] }
  | {
      kind: "compartment";
      compartmentId: string;
      freeformTags: Record<string, string>;
      definedTags: Record<string, Record<string, string>>;
      /** Which kinds the tags select (absent: ["instance"]). */
      kinds?: TargetKind[];
      /** Which regions to select in (absent: the function's region; "all": the tenancy's subscribed regions). */
      regions?: string[] | "all";
    };

/** results: every target's entry (the default) or only those that are not a success. */
export type ResultsView = "all" | "failures";

export interface PowerRequest {
  action: PowerAction;
  targets: Targets;
  wait: boolean;
  timeoutSeconds: number | undefined;
  dryRun: boolean;
  /** The schedule that sent the request (schedule.sh sets it); used only to label metrics. */
  schedule?: string;
  /** A person acting on purpose: power-override tags are reported as ignored (default false). */
  ignoreOverrides?: boolean;
  /** start-compute: the size node pools start to (else their recorded size). */
  size?: number | undefined;
  /** Which entries the response lists (the summary always counts every target). */
  results?: ResultsView;
}

export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_INSTANCE_IDS = 1000;
/** Largest node-pool size a request may ask for (OKE's per-pool node limit). */
export const MAX_NODE_POOL_SIZE = 1000;
const MAX_TAGS = 64;
const MAX_TAG_TEXT = 256;
const MAX_PROBLEMS = 5;

const COMMON_KEYS = [
  "instance_id",
  "instance_ids",
  "target_id",
  "target_ids",
  "compartment_id",
  "kinds",
  "freeform_tags",
  "defined_tags",
  "wait",
  "timeout_seconds",
  "dry_run",
  "schedule",
  "ignore_overrides",
  "regions",
  "results",
] as const;
const MAX_SCHEDULE_CHARS = 255;
/** More than OCI has regions in any realm. */
export const MAX_REGIONS = 64;
/** A region name's shape (us-ashburn-1, us-gov-ashburn-1, sa-saopaulo-1); whether OCI has it is checked later. */
const REGION_NAME = /^[a-z]{2,}(-[a-z]+)+-[0-9]+$/;

/** Common spellings people reach for, mapped to the key we accept. */
const ALIASES: Record<string, string> = {
  id: "instance_id",
  instance: "instance_id",
  instanceocid: "instance_id",
  instances: "instance_ids",
  ids: "instance_ids",
  instanceocids: "instance_ids",
  targets: "target_ids",
  target: "target_id",
  kind: "kinds",
  types: "kinds",
  nodes: "size",
  nodecount: "size",
  compartment: "compartment_id",
  compartmentocid: "compartment_id",
  tags: "freeform_tags",
  timeout: "timeout_seconds",
  timeoutsecs: "timeout_seconds",
  timeoutsec: "timeout_seconds",
  dryrun: "dry_run",
  dry: "dry_run",
  plan: "dry_run",
  poweraction: "action",
  mode: "action",
};

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 3;
}

function suggestKey(key: string, known: readonly string[]): string | undefined {
  if (key.length > 64) return undefined;
  const n = normalizeKey(key);
  const exact = known.find((k) => normalizeKey(k) === n);
  if (exact) return exact;
  const alias = ALIASES[n];
  if (alias) return alias;
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(n, normalizeKey(k));
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  return best;
}

/** A short, safe rendering of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case "string": {
      const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
      return `the string ${JSON.stringify(shown)}`;
    }
    case "number":
      return `the number ${String(value)}`;
    case "boolean":
      return `the boolean ${String(value)}`;
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

function withArticle(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function quoteKey(key: string): string {
  const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  return JSON.stringify(shown);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class Problems {
  readonly list: { field: string; message: string }[] = [];
  add(field: string, message: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push({ field, message });
  }
  get full(): boolean {
    return this.list.length >= MAX_PROBLEMS;
  }
  throwIfAny(): void {
    const first = this.list[0];
    if (!first) return;
    throw new InvalidParameterError(this.list.map((p) => p.message).join("; "), first.field);
  }
}

const HOW_TO =
  'expected a JSON object such as {"instance_id": "ocid1.instance.oc1..."}, {"instance_ids": [...]} or {"compartment_id": "ocid1.compartment.oc1..."}';

/** Turns the raw body (string in "string" input mode, or anything the FDK hands over) into an object. */
export function parseBody(input: unknown): Record<string, unknown> {
  let value: unknown = input;
  if (typeof input === "string" || Buffer.isBuffer(input)) {
    const text = typeof input === "string" ? input : input.toString("utf8");
    const bytes = typeof input === "string" ? Buffer.byteLength(text, "utf8") : input.length;
    if (bytes > MAX_BODY_BYTES) {
      throw new InvalidParameterError(
        `the body is ${bytes} bytes; at most ${MAX_BODY_BYTES} bytes are accepted (up to ${MAX_INSTANCE_IDS} instance_ids fit easily)`,
        "body",
      );
    }
    if (text.trim() === "") throw new InvalidParameterError(`the body is empty; ${HOW_TO}`, "body");
    try {
      value = JSON.parse(text);
    } catch (error) {
      const detail = error instanceof Error ? error.message.slice(0, 120) : "unparseable";
      throw new InvalidParameterError(`the body is not valid JSON (${detail}); ${HOW_TO}`, "body");
    }
  } else if (input === undefined) {
    throw new InvalidParameterError(`the body is empty; ${HOW_TO}`, "body");
  }
  if (!isPlainObject(value)) {
    throw new InvalidParameterError(
      `the body must be a JSON object, got ${describeValue(value)}; ${HOW_TO}`,
      "body",
    );
  }
  return value;
}

function checkInstanceOcid(field: string, value: unknown, problems: Problems): string | undefined {
  if (typeof value !== "string") {
    problems.add(
      field,
      `${field} must be an instance OCID string (ocid1.instance...), got ${describeValue(value)}`,
    );
    return undefined;
  }
  const check = checkOcid(value);
  if (!check.ok) {
    problems.add(field, `${field} ${check.problem}; expected an instance OCID (ocid1.instance...)`);
    return undefined;
  }
  if (check.resourceType !== "instance") {
    problems.add(
      field,
      `${field} is the OCID of ${withArticle(check.resourceType)}, not of an instance; expected ocid1.instance...`,
    );
    return undefined;
  }
  return value;
}

const KIND_TYPES = "ocid1.instance…, ocid1.instancepool…, ocid1.nodepool… or ocid1.computecontainerinstance…";

/** An OCID of any supported kind (target_id / target_ids). */
function checkTargetOcid(field: string, value: unknown, problems: Problems): string | undefined {
  if (typeof value !== "string") {
    problems.add(field, `${field} must be an OCID string (${KIND_TYPES}), got ${describeValue(value)}`);
    return undefined;
  }
  const check = checkOcid(value);
  if (!check.ok) {
    problems.add(field, `${field} ${check.problem}; expected ${KIND_TYPES}`);
    return undefined;
  }
  if (!kindOfOcidType(check.resourceType)) {
    problems.add(
      field,
      `${field} is the OCID of ${withArticle(check.resourceType)}, which these functions do not power; expected ${KIND_TYPES}`,
    );
    return undefined;
  }
  return value;
}

function checkStringMap(
  field: string,
  value: unknown,
  problems: Problems,
): Record<string, string> | undefined {
  if (!isPlainObject(value)) {
    problems.add(
      field,
      `${field} must be an object of string values such as {"env": "dev"}, got ${describeValue(value)}`,
    );
    return undefined;
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_TAGS) {
    problems.add(field, `${field} has ${keys.length} keys; at most ${MAX_TAGS} are accepted`);
    return undefined;
  }
  const out: Record<string, string> = Object.create(null);
  for (const key of keys) {
    const v = value[key];
    if (key.length === 0 || key.length > MAX_TAG_TEXT) {
      problems.add(
        field,
        `${field} has a key of ${key.length} characters; tag keys are 1 to ${MAX_TAG_TEXT}`,
      );
      return undefined;
    }
    if (typeof v !== "string" || v.length > MAX_TAG_TEXT) {
      problems.add(
        `${field}.${key}`,
        `${field}[${quoteKey(key)}] must be a string of at most ${MAX_TAG_TEXT} characters, got ${describeValue(v)}`,
      );
      return undefined;
    }
    out[key] = v;
  }
  return { ...out };
}

function checkDefinedTags(
  value: unknown,
  problems: Problems,
): Record<string, Record<string, string>> | undefined {
  const field = "defined_tags";
  if (!isPlainObject(value)) {
    problems.add(
      field,
      `${field} must be an object of namespaces such as {"Operations": {"schedule": "office-hours"}}, got ${describeValue(value)}`,
    );
    return undefined;
  }
  const namespaces = Object.keys(value);
  if (namespaces.length > MAX_TAGS) {
    problems.add(field, `${field} has ${namespaces.length} namespaces; at most ${MAX_TAGS} are accepted`);
    return undefined;
  }
  const out: Record<string, Record<string, string>> = {};
  for (const ns of namespaces) {
    const inner = checkStringMap(`${field}[${quoteKey(ns)}]`, value[ns], problems);
    if (!inner) return undefined;
    Object.defineProperty(out, ns, { value: inner, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

type Body = Record<string, unknown>;

/** The schedule's name: a non-empty string of at most 255 characters without control characters. */
function checkSchedule(value: unknown, problems: Problems): string | undefined {
  if (
    typeof value === "string" &&
    value.trim() !== "" &&
    value.length <= MAX_SCHEDULE_CHARS &&
    !/\p{Cc}/u.test(value)
  ) {
    return value;
  }
  problems.add(
    "schedule",
    `schedule must be the schedule's name, a string of 1 to ${MAX_SCHEDULE_CHARS} characters without control characters, got ${describeValue(value)}`,
  );
  return undefined;
}

/** Unknown keys (with a suggestion when one is close) and "action" sent to start-compute. */
function checkKeys(body: Body, fn: FunctionKind, known: readonly string[], problems: Problems): void {
  // Object.keys of a JSON.parse result: own keys only, "__proto__" included as a plain key.
  const keys = Object.keys(body);
  if (keys.length > 32) {
    throw new InvalidParameterError(
      `the body has ${keys.length} keys; expected at most ${known.length}: ${known.join(", ")}`,
      "body",
    );
  }
  for (const key of keys) {
    if (known.includes(key)) continue;
    if (fn === "STOP" && key === "size") continue; // parseSize says why
    if (fn === "START" && normalizeKey(key) === "action") {
      problems.add(
        key,
        `"action" is only accepted by stop-compute (SOFTSTOP or STOP); start-compute always starts`,
      );
      continue;
    }
    const suggestion = suggestKey(key, known);
    problems.add(
      key,
      suggestion
        ? `unknown key ${quoteKey(key)}; did you mean "${suggestion}"?`
        : `unknown key ${quoteKey(key)}; accepted keys: ${known.join(", ")}`,
    );
  }
}

type IdCheck = (field: string, value: unknown, problems: Problems) => string | undefined;

/** instance_id (instances only) or target_id (any kind). */
function parseOneId(key: "instance_id" | "target_id", raw: unknown, problems: Problems): Targets | undefined {
  if (Array.isArray(raw)) {
    problems.add(key, `${key} must be a single OCID string; use "${key}s" for a list`);
    return undefined;
  }
  const check: IdCheck = key === "instance_id" ? checkInstanceOcid : checkTargetOcid;
  const id = check(key, raw, problems);
  return id ? { kind: "ids", ids: [id] } : undefined;
}

/** instance_ids (instances only) or target_ids (any kind, mixed): 1 to 1,000, each once. */
function parseIdList(
  key: "instance_ids" | "target_ids",
  raw: unknown,
  problems: Problems,
): Targets | undefined {
  const what = key === "instance_ids" ? "instance OCIDs" : "OCIDs";
  const one = key === "instance_ids" ? "instance_id" : "target_id";
  if (!Array.isArray(raw)) {
    problems.add(
      key,
      typeof raw === "string"
        ? `${key} must be an array of ${what}; for one use "${one}" or ["${raw.slice(0, 40)}"]`
        : `${key} must be an array of 1 to ${MAX_INSTANCE_IDS} ${what}, got ${describeValue(raw)}`,
    );
    return undefined;
  }
  if (raw.length === 0) {
    problems.add(key, `${key} is empty; list 1 to ${MAX_INSTANCE_IDS} ${what}`);
    return undefined;
  }
  if (raw.length > MAX_INSTANCE_IDS) {
    problems.add(
      key,
      `${key} has ${raw.length} entries; at most ${MAX_INSTANCE_IDS} per call (split the list or select by compartment_id)`,
    );
    return undefined;
  }
  const check: IdCheck = key === "instance_ids" ? checkInstanceOcid : checkTargetOcid;
  const seen = new Map<string, number>();
  const ids: string[] = [];
  for (let i = 0; i < raw.length && !problems.full; i++) {
    const id = check(`${key}[${i}]`, raw[i], problems);
    if (!id) continue;
    const first = seen.get(id);
    if (first !== undefined) {
      problems.add(
        `${key}[${i}]`,
        `${key}[${i}] repeats ${key}[${first}]; list each ${key === "instance_ids" ? "instance" : "target"} once`,
      );
      continue;
    }
    seen.set(id, i);
    ids.push(id);
  }
  return ids.length === raw.length ? { kind: "ids", ids } : undefined;
}

/** kinds: which kinds a compartment selection covers. */
function parseKinds(raw: unknown, problems: Problems): TargetKind[] | undefined {
  const expected = `a list of 1 to ${TARGET_KINDS.length} of ${TARGET_KINDS.map((k) => `"${k}"`).join(", ")}`;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > TARGET_KINDS.length) {
    problems.add("kinds", `kinds must be ${expected}, got ${describeValue(raw)}`);
    return undefined;
  }
  const kinds: TargetKind[] = [];
  for (let i = 0; i < raw.length; i++) {
    const v: unknown = raw[i];
    if (isTargetKind(v)) {
      if (kinds.includes(v)) problems.add(`kinds[${i}]`, `kinds[${i}] repeats "${v}"; list each kind once`);
      else kinds.push(v);
      continue;
    }
    const near = typeof v === "string" ? suggestKey(v, TARGET_KINDS) : undefined;
    problems.add(
      `kinds[${i}]`,
      `kinds[${i}] is ${describeValue(v)}, not a kind${near ? `; did you mean "${near}"?` : `; expected ${expected}`}`,
    );
  }
  return kinds.length === raw.length ? kinds : undefined;
}

function parseCompartmentId(raw: unknown, problems: Problems): Targets | undefined {
  if (typeof raw !== "string") {
    problems.add(
      "compartment_id",
      `compartment_id must be a compartment OCID string, got ${describeValue(raw)}`,
    );
    return undefined;
  }
  const check = checkOcid(raw);
  if (!check.ok) {
    problems.add(
      "compartment_id",
      `compartment_id ${check.problem}; expected ocid1.compartment... or ocid1.tenancy...`,
    );
    return undefined;
  }
  if (check.resourceType !== "compartment" && check.resourceType !== "tenancy") {
    problems.add(
      "compartment_id",
      `compartment_id is the OCID of ${withArticle(check.resourceType)}; expected a compartment (ocid1.compartment...) or the tenancy (ocid1.tenancy...)`,
    );
    return undefined;
  }
  return { kind: "compartment", compartmentId: raw, freeformTags: {}, definedTags: {}, kinds: ["instance"] };
}

/** regions: a list of region names, or "all" (the tenancy's subscribed regions). */
function parseRegions(raw: unknown, problems: Problems): string[] | "all" | undefined {
  const expected = 'a list of region names such as ["us-ashburn-1", "eu-frankfurt-1"], or "all"';
  if (raw === "all") return "all";
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_REGIONS) {
    const size = Array.isArray(raw) ? ` of ${raw.length} entries (1 to ${MAX_REGIONS})` : "";
    problems.add("regions", `regions must be ${expected}, got ${describeValue(raw)}${size}`);
    return undefined;
  }
  const regions: string[] = [];
  for (const [i, v] of raw.entries()) {
    if (typeof v !== "string" || !REGION_NAME.test(v)) {
      problems.add(
        `regions[${i}]`,
        `regions[${i}] is ${describeValue(v)}, not a region name such as "us-ashburn-1"`,
      );
    } else if (regions.includes(v)) {
      problems.add(`regions[${i}]`, `regions[${i}] repeats "${v}"; list each region once`);
    } else regions.push(v);
  }
  return regions.length === raw.length ? regions : undefined;
}

function parseResultsView(body: Body, problems: Problems): ResultsView {
  if (!Object.hasOwn(body, "results")) return "all";
  const v = body.results;
  if (v === "all" || v === "failures") return v;
  problems.add(
    "results",
    `results must be "all" (every target's entry, the default) or "failures" (only entries that are not a success), got ${describeValue(v)}`,
  );
  return "all";
}

const TARGET_FORMS = ["instance_id", "instance_ids", "target_id", "target_ids", "compartment_id"];

/** Exactly one of instance_id, instance_ids or compartment_id; tags only with compartment_id. */
function parseTargets(body: Body, problems: Problems): Targets | undefined {
  const has = (k: string): boolean => Object.hasOwn(body, k);
  const forms = TARGET_FORMS.filter(has);
  let targets: Targets | undefined;
  if (forms.length === 0) {
    if (problems.list.length === 0) {
      problems.add("instance_id", `no target given; expected exactly one of ${TARGET_FORMS.join(", ")}`);
    }
  } else if (forms.length > 1) {
    problems.add(
      forms[1] ?? "",
      `${forms.join(" and ")} were all given; use exactly one of ${TARGET_FORMS.join(", ")}`,
    );
  } else if (has("instance_id")) {
    targets = parseOneId("instance_id", body.instance_id, problems);
  } else if (has("instance_ids")) {
    targets = parseIdList("instance_ids", body.instance_ids, problems);
  } else if (has("target_id")) {
    targets = parseOneId("target_id", body.target_id, problems);
  } else if (has("target_ids")) {
    targets = parseIdList("target_ids", body.target_ids, problems);
  } else {
    targets = parseCompartmentId(body.compartment_id, problems);
  }
  if (has("regions") && forms.length === 1 && !has("compartment_id")) {
    problems.add(
      "regions",
      "regions only applies with compartment_id (an OCID carries its own region: ocid1.instance.oc1.<region key>...)",
    );
  }
  for (const tagKey of ["freeform_tags", "defined_tags", "kinds"] as const) {
    if (has(tagKey) && forms.length === 1 && !has("compartment_id")) {
      problems.add(
        tagKey,
        `${tagKey} only applies with compartment_id (it selects ${tagKey === "kinds" ? "which kinds" : "what"} in that compartment)`,
      );
    }
  }
  if (targets?.kind === "compartment") {
    if (has("freeform_tags")) {
      const tags = checkStringMap("freeform_tags", body.freeform_tags, problems);
      if (tags) targets.freeformTags = tags;
    }
    if (has("defined_tags")) {
      const tags = checkDefinedTags(body.defined_tags, problems);
      if (tags) targets.definedTags = tags;
    }
    if (has("kinds")) {
      const kinds = parseKinds(body.kinds, problems);
      if (kinds) targets.kinds = kinds;
    }
    if (has("regions")) {
      const regions = parseRegions(body.regions, problems);
      if (regions) targets.regions = regions;
    }
  }
  return targets;
}

function parseBool(
  body: Body,
  key: "wait" | "dry_run" | "ignore_overrides",
  fallback: boolean,
  problems: Problems,
): boolean {
  if (!Object.hasOwn(body, key)) return fallback;
  const v = body[key];
  if (typeof v === "boolean") return v;
  problems.add(key, `${key} must be true or false, got ${describeValue(v)}`);
  return fallback;
}

function parseTimeout(body: Body, problems: Problems): number | undefined {
  if (!Object.hasOwn(body, "timeout_seconds")) return undefined;
  const v = body.timeout_seconds;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 3600) {
    problems.add(
      "timeout_seconds",
      `timeout_seconds must be a whole number of seconds from 1 to 3600, got ${describeValue(v)}`,
    );
    return undefined;
  }
  return v;
}

/** size: start-compute only, the node-pool size to start to. */
function parseSize(body: Body, fn: FunctionKind, problems: Problems): number | undefined {
  if (!Object.hasOwn(body, "size")) return undefined;
  const v = body.size;
  if (fn !== "START") {
    problems.add("size", `"size" is only accepted by start-compute (the node-pool size to start to)`);
    return undefined;
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > MAX_NODE_POOL_SIZE) {
    problems.add(
      "size",
      `size must be a whole number of nodes from 1 to ${MAX_NODE_POOL_SIZE} (node pools start to it), got ${describeValue(v)}`,
    );
    return undefined;
  }
  return v;
}

function parseAction(body: Body, fn: FunctionKind, problems: Problems): PowerAction {
  const fallback: PowerAction = fn === "START" ? "START" : "SOFTSTOP";
  if (fn !== "STOP" || !Object.hasOwn(body, "action")) return fallback;
  const v = body.action;
  if (v === "SOFTSTOP" || v === "STOP") return v;
  if (typeof v === "string" && (v.toUpperCase() === "SOFTSTOP" || v.toUpperCase() === "STOP")) {
    problems.add(
      "action",
      `action must be "SOFTSTOP" or "STOP" in capitals; got ${describeValue(v)}, did you mean "${v.toUpperCase()}"?`,
    );
  } else {
    problems.add(
      "action",
      `action must be "SOFTSTOP" (graceful, the default) or "STOP" (immediate), got ${describeValue(v)}`,
    );
  }
  return fallback;
}

/**
 * Validates a parsed body for start-compute ("START") or stop-compute ("STOP").
 * Throws InvalidParameterError; never touches OCI.
 */
export function parseRequest(input: unknown, fn: FunctionKind): PowerRequest {
  const body: Body = parseBody(input);
  const known: readonly string[] = fn === "STOP" ? [...COMMON_KEYS, "action"] : [...COMMON_KEYS, "size"];
  const problems = new Problems();
  checkKeys(body, fn, known, problems);
  const targets = parseTargets(body, problems);
  const wait = parseBool(body, "wait", true, problems);
  const dryRun = parseBool(body, "dry_run", false, problems);
  const ignoreOverrides = parseBool(body, "ignore_overrides", false, problems);
  const timeoutSeconds = parseTimeout(body, problems);
  const action = parseAction(body, fn, problems);
  const schedule = Object.hasOwn(body, "schedule") ? checkSchedule(body.schedule, problems) : undefined;
  const size = parseSize(body, fn, problems);
  const results = parseResultsView(body, problems);
  problems.throwIfAny();
  if (!targets) throw new InvalidParameterError(`no valid target; ${HOW_TO}`, "body");
  const request: PowerRequest = {
    action,
    targets,
    wait,
    timeoutSeconds,
    dryRun,
    ignoreOverrides,
    size,
    results,
  };
  if (schedule !== undefined) request.schedule = schedule;
  return request;
}

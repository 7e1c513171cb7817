/**
 * What instance pools, node pools, container instances and work requests share: a JSON resource whose
 * future changes are scheduled as timed events and applied lazily on every read (no timer per
 * resource, as for instances), a store with creation-order paging, the one power-transition rule,
 * and the list-query parsing. Each service module only says what its transitions are.
 */
import { invalidParameter, OciHttpError } from "./errors.js";
import { isOcid } from "./ocid.js";

export interface ResourceJson {
  id: string;
  compartmentId: string;
  lifecycleState: string;
  [field: string]: unknown;
}

export interface StateEntry {
  state: string;
  /** Epoch milliseconds at which the resource entered `state`. */
  at: number;
}

interface TimedEvent {
  at: number;
  apply: () => void;
}

const HISTORY_CAP = 1000;

/** One resource, its lifecycle history and the changes still to come. */
export class Tracked<J extends ResourceJson> {
  version = 1;
  readonly history: StateEntry[];
  /** The lifecycle state the scheduled changes end in, while any are pending. */
  target: string | undefined;
  #events: TimedEvent[] = [];

  constructor(
    readonly json: J,
    readonly seq: number,
    now: number,
  ) {
    this.history = [{ state: json.lifecycleState, at: now }];
  }

  get etag(): string {
    return `${this.seq.toString(16)}-${this.version.toString(16)}`;
  }

  /** True while changes are scheduled. */
  get busy(): boolean {
    return this.#events.length > 0;
  }

  schedule(at: number, apply: () => void): void {
    let i = this.#events.length;
    while (i > 0 && (this.#events[i - 1]?.at ?? 0) > at) i--;
    this.#events.splice(i, 0, { at, apply });
  }

  /** Schedule a lifecycle state change. */
  scheduleState(at: number, state: string): void {
    this.schedule(at, () => this.enter(state, at));
  }

  /** Drop every scheduled change (an admin upsert setting a state cancels what was in flight). */
  cancel(): void {
    this.#events = [];
    this.target = undefined;
  }

  enter(state: string, at: number): void {
    this.version++;
    if (this.json.lifecycleState === state) return;
    this.json.lifecycleState = state;
    this.history.push({ state, at });
    if (this.history.length > HISTORY_CAP) this.history.splice(0, this.history.length - HISTORY_CAP);
  }

  /** Apply every change whose time has come, in time order. */
  advance(now: number): void {
    while (this.#events.length > 0) {
      const next = this.#events[0];
      if (!next || next.at > now) break;
      this.#events.shift();
      next.apply();
    }
    if (this.#events.length === 0) this.target = undefined;
  }
}

export interface Page<J> {
  items: J[];
  nextPage: number | undefined;
}

/** Resources of one kind by id, in creation order. */
export class TrackedStore<J extends ResourceJson> {
  readonly #byId = new Map<string, Tracked<J>>();
  #seq = 0;

  /** `noun` names the kind in error messages ("instance pool"). */
  constructor(readonly noun: string) {}

  get size(): number {
    return this.#byId.size;
  }

  get nextSeq(): number {
    return this.#seq;
  }

  /** Insert, or replace by id keeping the creation-order place (so page cursors stay valid). */
  add(json: J, now: number): Tracked<J> {
    const seq = this.#byId.get(json.id)?.seq ?? this.#seq++;
    const record = new Tracked(json, seq, now);
    this.#byId.set(json.id, record);
    return record;
  }

  /** The record advanced to `now`, or undefined. */
  get(id: string, now: number): Tracked<J> | undefined {
    const record = this.#byId.get(id);
    record?.advance(now);
    return record;
  }

  all(now: number): J[] {
    return [...this.#byId.values()].map((r) => {
      r.advance(now);
      return r.json;
    });
  }

  /** One page of a compartment's resources; the page cursor is the creation sequence to resume from. */
  list(compartmentId: string, keep: (json: J) => boolean, paging: Paging, now: number): Page<J> {
    const items: J[] = [];
    for (const record of this.#byId.values()) {
      if (record.seq < paging.page || record.json.compartmentId !== compartmentId) continue;
      record.advance(now);
      if (!keep(record.json)) continue;
      if (items.length === paging.limit) return { items, nextPage: record.seq };
      items.push(record.json);
    }
    return { items, nextPage: undefined };
  }
}

export interface Paging {
  limit: number;
  page: number;
}

const LIST_DEFAULT_LIMIT = 100;
const LIST_MAX_LIMIT = 1000;

/** `compartmentId`, `limit` and `page` of a List call, validated as Compute's ListInstances does. */
export function parseListQuery(query: URLSearchParams): { compartmentId: string; paging: Paging } {
  const compartmentId = query.get("compartmentId");
  if (!compartmentId) throw new OciHttpError(400, "MissingParameter", "compartmentId is required.");
  if (!isOcid(compartmentId))
    throw invalidParameter(`Malformed compartmentId: ${compartmentId.slice(0, 300)}`);
  let limit = LIST_DEFAULT_LIMIT;
  const limitRaw = query.get("limit");
  if (limitRaw !== null) {
    limit = Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1) throw invalidParameter("limit must be a positive integer.");
    limit = Math.min(limit, LIST_MAX_LIMIT);
  }
  let page = 0;
  const pageRaw = query.get("page");
  if (pageRaw !== null) {
    const m = /^p(\d{1,12})$/.exec(pageRaw);
    if (!m) throw invalidParameter("Invalid page token.");
    page = Number(m[1]);
  }
  return { compartmentId, paging: { limit, page } };
}

/** An optional enum-valued query parameter, checked against the service's states. */
export function optionalEnumQuery(
  query: URLSearchParams,
  name: string,
  allowed: readonly string[],
): string | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!allowed.includes(value)) {
    throw invalidParameter(`Invalid ${name}: ${value.slice(0, 100)}. Expected one of ${allowed.join(", ")}.`);
  }
  return value;
}

export function nextPageHeader(page: Page<unknown>): Record<string, string> {
  return page.nextPage === undefined ? {} : { "opc-next-page": `p${page.nextPage}` };
}

/**
 * The one power rule every kind follows (the same decisions as for instances, docs/emulator.md):
 * already in, or already heading to, the wanted state → "noop"; in one of the states the action
 * starts from with nothing in flight → "go"; anything else → 409 IncorrectState naming both.
 */
export function decidePower(
  record: Tracked<ResourceJson>,
  what: { noun: string; action: string; wants: string; from: readonly string[] },
): "noop" | "go" {
  const state = record.json.lifecycleState;
  if (state === what.wants || record.target === what.wants) return "noop";
  if (what.from.includes(state) && !record.busy) return "go";
  throw new OciHttpError(
    409,
    "IncorrectState",
    `The ${what.noun} ${record.json.id} is in state ${state}${record.target ? ` (moving to ${record.target})` : ""}; ${what.action} needs ${what.from.join(" or ")}.`,
  );
}

/** The `If-Match` check every update and action honours. */
export function checkIfMatch(ifMatch: string | string[] | undefined, record: Tracked<ResourceJson>): void {
  if (typeof ifMatch === "string" && ifMatch !== record.etag) {
    throw new OciHttpError(
      412,
      "NoEtagMatch",
      "The if-match etag does not match the resource's current etag.",
    );
  }
}

// --- validation of seeded (state file / admin) resources -----------------------------------------

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Common checks on a seeded resource: an object, an OCID of `ocidType` if `id` is given, known state. */
export function checkSeed(
  input: unknown,
  what: { field: string; ocidType: string; states: readonly string[] },
): Record<string, unknown> {
  if (!isObject(input)) throw invalidParameter(`Each of ${what.field} must be a JSON object.`);
  if (input.id !== undefined && (typeof input.id !== "string" || !isOcid(input.id, what.ocidType))) {
    throw invalidParameter(`${what.field}[].id must be an ocid1.${what.ocidType}… OCID: ${String(input.id)}`);
  }
  if (
    input.compartmentId !== undefined &&
    (typeof input.compartmentId !== "string" || !isOcid(input.compartmentId))
  ) {
    throw invalidParameter(`${what.field}[].compartmentId must be an OCID: ${String(input.compartmentId)}`);
  }
  if (input.lifecycleState !== undefined && !what.states.includes(String(input.lifecycleState))) {
    throw invalidParameter(
      `${what.field}[].lifecycleState must be one of ${what.states.join(", ")}: ${String(input.lifecycleState)}`,
    );
  }
  for (const tags of ["freeformTags", "definedTags"]) {
    if (input[tags] !== undefined && !isObject(input[tags])) {
      throw invalidParameter(`${what.field}[].${tags} must be an object.`);
    }
  }
  return input;
}

/** Freeform tags as OCI accepts them: an object of string values. */
export function parseFreeformTags(v: unknown, field: string): Record<string, string> {
  if (!isObject(v) || !Object.values(v).every((s) => typeof s === "string")) {
    throw invalidParameter(`${field} must be an object of string values.`);
  }
  return { ...(v as Record<string, string>) };
}

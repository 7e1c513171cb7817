/**
 * Compute instances and their lifecycle. Transitions are computed lazily from timestamps: an action
 * records the future state changes it implies, and every read first applies those whose time has come.
 * No timer per instance, so 1,000 instances in motion cost nothing between calls.
 */
import { invalidParameter, OciHttpError } from "./errors.js";
import {
  type Durations,
  type InstanceActionName,
  type InstanceJson,
  LIFECYCLE_STATES,
  type LifecycleState,
  type StateChange,
} from "./model.js";
import { isOcid } from "./ocid.js";
import { availabilityDomainIn, fixedOcidIn, ocidIn } from "./regions.js";

interface InstanceRecord {
  json: InstanceJson;
  seq: number;
  version: number;
  history: StateChange[];
  /** Future state changes, in time order. */
  pending: StateChange[];
  /** The state the pending changes end in, if any. */
  target: LifecycleState | undefined;
}

export interface ActionPlanContext {
  now: number;
  durations: Durations;
  timeScale: number;
  /** Extra real-time milliseconds the instance stays in its transitional state (fault `hold`). */
  holdMs: number;
}

export type ActionOutcome =
  | { kind: "transition"; instance: InstanceJson; etag: string }
  | { kind: "noop"; instance: InstanceJson; etag: string };

const HISTORY_CAP = 1000;

export class InstanceStore {
  readonly #byId = new Map<string, InstanceRecord>();
  #seq = 0;

  constructor(
    private readonly region: string,
    private readonly tenancyId: string,
  ) {}

  get size(): number {
    return this.#byId.size;
  }

  /** Insert or merge instances; missing fields get defaults. Returns the stored instances. */
  upsert(partials: ReadonlyArray<Partial<InstanceJson>>, ctx: ActionPlanContext): InstanceJson[] {
    const out: InstanceJson[] = [];
    for (const partial of partials) {
      if (partial === null || typeof partial !== "object" || Array.isArray(partial)) {
        throw invalidParameter("Each instance must be a JSON object.");
      }
      const id = partial.id ?? ocidIn(this.region, "instance");
      if (typeof id !== "string" || !isOcid(id))
        throw invalidParameter(`Malformed instance id: ${String(id)}`);
      if (partial.lifecycleState !== undefined && !LIFECYCLE_STATES.includes(partial.lifecycleState)) {
        throw invalidParameter(`Unknown lifecycleState: ${String(partial.lifecycleState)}`);
      }
      if (partial.compartmentId !== undefined && !isOcid(String(partial.compartmentId))) {
        throw invalidParameter(`Malformed compartmentId: ${String(partial.compartmentId)}`);
      }
      const existing = this.#byId.get(id);
      if (existing) {
        this.#advance(existing, ctx.now);
        const { lifecycleState, ...rest } = partial;
        Object.assign(existing.json, rest, { id });
        if (lifecycleState !== undefined) this.#setState(existing, lifecycleState, ctx);
        existing.version++;
        out.push(existing.json);
        continue;
      }
      const json = this.#withDefaults(id, partial, ctx.now);
      const record: InstanceRecord = {
        json,
        seq: this.#seq++,
        version: 1,
        history: [{ state: json.lifecycleState, at: ctx.now }],
        pending: [],
        target: undefined,
      };
      this.#scheduleCompletionOfTransitional(record, ctx);
      this.#byId.set(id, record);
      out.push(json);
    }
    return out;
  }

  get(id: string, now: number): { instance: InstanceJson; etag: string; history: StateChange[] } | undefined {
    const record = this.#byId.get(id);
    if (!record) return undefined;
    this.#advance(record, now);
    return { instance: record.json, etag: etagOf(record), history: record.history };
  }

  /** Set fields directly (admin PATCH); a lifecycleState given here cancels any transition in flight. */
  patch(id: string, fields: Partial<InstanceJson>, ctx: ActionPlanContext): InstanceJson | undefined {
    const record = this.#byId.get(id);
    if (!record) return undefined;
    this.upsert([{ ...fields, id }], ctx);
    return record.json;
  }

  /**
   * UpdateInstance: set the given fields if `ifMatch` (when given) is the current etag; a tag map
   * replaces the whole map. Returns the new etag, or "mismatch" (nothing written), or undefined.
   */
  update(
    id: string,
    fields: Partial<InstanceJson>,
    ifMatch: string | undefined,
    now: number,
  ): { instance: InstanceJson; etag: string } | "mismatch" | undefined {
    const record = this.#byId.get(id);
    if (!record) return undefined;
    this.#advance(record, now);
    if (ifMatch !== undefined && ifMatch !== etagOf(record)) return "mismatch";
    Object.assign(record.json, structuredClone(fields));
    record.version++;
    return { instance: record.json, etag: etagOf(record) };
  }

  /** All instances in insertion order (advanced to `now`). */
  all(now: number): InstanceJson[] {
    const out: InstanceJson[] = [];
    for (const record of this.#byId.values()) {
      this.#advance(record, now);
      out.push(record.json);
    }
    return out;
  }

  /**
   * One page of a compartment's instances in insertion order. The page token is the insertion
   * sequence number to resume from, so pages stay stable while instances change state.
   */
  list(
    filter: { compartmentId: string; lifecycleState?: string; displayName?: string },
    limit: number,
    page: number,
    now: number,
  ): { items: InstanceJson[]; nextPage: number | undefined } {
    const items: InstanceJson[] = [];
    for (const record of this.#byId.values()) {
      if (record.seq < page) continue;
      if (record.json.compartmentId !== filter.compartmentId) continue;
      this.#advance(record, now);
      if (filter.lifecycleState !== undefined && record.json.lifecycleState !== filter.lifecycleState)
        continue;
      if (filter.displayName !== undefined && record.json.displayName !== filter.displayName) continue;
      if (items.length === limit) return { items, nextPage: record.seq };
      items.push(record.json);
    }
    return { items, nextPage: undefined };
  }

  /**
   * Apply a power action. Decisions (documented in README.md, "The local OCI emulator"):
   * - START on RUNNING, or while heading to RUNNING (STARTING, a reset in flight): 200 no-op.
   * - STOP/SOFTSTOP on STOPPED, or while heading to STOPPED: 200 no-op.
   * - RESET/SOFTRESET need RUNNING with nothing in flight.
   * - Anything else (STOP while STARTING, START while STOPPING, TERMINATED, ...): 409 IncorrectState.
   * `beforeTransition` may veto a real transition (out-of-capacity fault) by throwing.
   */
  act(
    id: string,
    action: InstanceActionName,
    ctx: ActionPlanContext,
    beforeTransition: (instance: InstanceJson) => void,
  ): ActionOutcome | undefined {
    const record = this.#byId.get(id);
    if (!record) return undefined;
    this.#advance(record, ctx.now);
    const state = record.json.lifecycleState;
    const wants: LifecycleState = action === "STOP" || action === "SOFTSTOP" ? "STOPPED" : "RUNNING";
    const isReset = action === "RESET" || action === "SOFTRESET";
    if (!isReset && (state === wants || record.target === wants)) {
      return { kind: "noop", instance: record.json, etag: etagOf(record) };
    }
    const from: LifecycleState = wants === "STOPPED" || isReset ? "RUNNING" : "STOPPED";
    if (state !== from || record.target !== undefined) {
      throw new OciHttpError(
        409,
        "IncorrectState",
        `Instance ${id} is in state ${state}${record.target ? ` (moving to ${record.target})` : ""}; action ${action} is not allowed in this state.`,
      );
    }
    beforeTransition(record.json);
    const duration = ctx.durations[action] * ctx.timeScale;
    const t0 = ctx.now;
    const hold = Math.max(0, ctx.holdMs);
    let changes: StateChange[];
    if (action === "START") {
      changes = [
        { state: "STARTING", at: t0 },
        { state: "RUNNING", at: t0 + duration + hold },
      ];
    } else if (action === "STOP" || action === "SOFTSTOP") {
      changes = [
        { state: "STOPPING", at: t0 },
        { state: "STOPPED", at: t0 + duration + hold },
      ];
    } else {
      changes = [
        { state: "STOPPING", at: t0 },
        { state: "STARTING", at: t0 + duration / 2 + hold },
        { state: "RUNNING", at: t0 + duration + hold },
      ];
    }
    const [first, ...rest] = changes;
    if (first) this.#enter(record, first);
    record.pending = rest;
    record.target = rest.at(-1)?.state;
    this.#advance(record, ctx.now);
    return { kind: "transition", instance: record.json, etag: etagOf(record) };
  }

  #withDefaults(id: string, p: Partial<InstanceJson>, now: number): InstanceJson {
    const imageId =
      typeof p.imageId === "string"
        ? p.imageId
        : fixedOcidIn(this.region, "image", `emulatorimage${this.#seq}`);
    return {
      availabilityDomain: availabilityDomainIn(this.region),
      faultDomain: "FAULT-DOMAIN-1",
      region: this.region,
      shape: "VM.Standard.E4.Flex",
      shapeConfig: { ocpus: 1, memoryInGBs: 16, processorDescription: "2.55 GHz AMD EPYC 7J13 (Milan)" },
      imageId,
      sourceDetails: { sourceType: "image", imageId },
      launchMode: "PARAVIRTUALIZED",
      metadata: {},
      extendedMetadata: {},
      systemTags: {},
      ...p,
      id,
      compartmentId: p.compartmentId ?? this.tenancyId,
      displayName: p.displayName ?? `instance-${this.#seq}`,
      lifecycleState: p.lifecycleState ?? "RUNNING",
      timeCreated: p.timeCreated ?? new Date(now).toISOString(),
      freeformTags: p.freeformTags ?? {},
      definedTags: p.definedTags ?? {},
    };
  }

  #setState(record: InstanceRecord, state: LifecycleState, ctx: ActionPlanContext): void {
    record.pending = [];
    record.target = undefined;
    if (record.json.lifecycleState !== state) this.#enter(record, { state, at: ctx.now });
    this.#scheduleCompletionOfTransitional(record, ctx);
  }

  /** An instance seeded or patched into STARTING/STOPPING finishes that transition in due time. */
  #scheduleCompletionOfTransitional(record: InstanceRecord, ctx: ActionPlanContext): void {
    const state = record.json.lifecycleState;
    if (state !== "STARTING" && state !== "STOPPING") return;
    const final: LifecycleState = state === "STARTING" ? "RUNNING" : "STOPPED";
    const duration = ctx.durations[state === "STARTING" ? "START" : "STOP"] * ctx.timeScale;
    record.pending = [{ state: final, at: ctx.now + duration + Math.max(0, ctx.holdMs) }];
    record.target = final;
  }

  #advance(record: InstanceRecord, now: number): void {
    while (record.pending.length > 0) {
      const next = record.pending[0];
      if (!next || next.at > now) break;
      record.pending.shift();
      this.#enter(record, next);
    }
    if (record.pending.length === 0) record.target = undefined;
  }

  #enter(record: InstanceRecord, change: StateChange): void {
    record.json.lifecycleState = change.state;
    record.history.push(change);
    if (record.history.length > HISTORY_CAP) record.history.splice(0, record.history.length - HISTORY_CAP);
    record.version++;
  }
}

function etagOf(record: InstanceRecord): string {
  return `${record.seq.toString(16)}-${record.version.toString(16)}`;
}

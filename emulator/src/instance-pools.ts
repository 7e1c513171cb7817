/**
 * Instance pools (Compute Management, API 20160918): Get/List, the power actions
 * (`/instancePools/{id}/actions/start|stop|softstop|reset|softreset`, answered 200 with the pool
 * and an etag, as OCI does) and ListInstancePoolInstances. A pool's members are instances in the
 * instance store, so they move with the pool and are visible to GetInstance/ListInstances too.
 */
import { OciHttpError } from "./errors.js";
import type { InstanceActionName, InstanceJson, LifecycleState } from "./model.js";
import { availabilityDomainIn, fixedOcidIn, ocidIn } from "./regions.js";
import {
  durationFor,
  RetryCache,
  type Routed,
  type Service,
  type ServiceCall,
  type ServiceEnv,
  segment,
  visible,
  visibleCompartment,
} from "./service.js";
import {
  checkIfMatch,
  checkSeed,
  decidePower,
  nextPageHeader,
  optionalEnumQuery,
  parseListQuery,
  type ResourceJson,
  type Tracked,
  TrackedStore,
} from "./tracked.js";

export const INSTANCE_POOL_STATES = [
  "PROVISIONING",
  "SCALING",
  "STARTING",
  "STOPPING",
  "TERMINATING",
  "STOPPED",
  "TERMINATED",
  "RUNNING",
] as const;

/** An InstancePool in the SDK model's field names (oci-core `models.InstancePool`). */
export interface InstancePoolJson extends ResourceJson {
  displayName: string;
  instanceConfigurationId: string;
  size: number;
  placementConfigurations: unknown[];
  timeCreated: string;
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
}

/** The state-file/admin form: any pool fields, plus the member instance ids (created when missing). */
export type InstancePoolSeed = Partial<InstancePoolJson> & { instanceIds?: string[] };

const ACTIONS: Record<string, InstanceActionName> = {
  start: "START",
  stop: "STOP",
  softstop: "SOFTSTOP",
  reset: "RESET",
  softreset: "SOFTRESET",
};

/** A seeded transitional state settles into this state after that action's duration. */
const SETTLES: Record<string, { state: string; action: InstanceActionName }> = {
  STARTING: { state: "RUNNING", action: "START" },
  PROVISIONING: { state: "RUNNING", action: "START" },
  SCALING: { state: "RUNNING", action: "START" },
  STOPPING: { state: "STOPPED", action: "STOP" },
  TERMINATING: { state: "TERMINATED", action: "STOP" },
};

export class InstancePools implements Service {
  readonly store = new TrackedStore<InstancePoolJson>("instance pool");
  readonly #members = new Map<string, string[]>();
  readonly #retries = new RetryCache();

  constructor(private readonly env: ServiceEnv) {}

  /** Insert or replace pools; members are created in the instance store when missing. */
  upsert(seeds: readonly unknown[], now: number): InstancePoolSeed[] {
    return seeds.map((input) => {
      const seed = checkSeed(input, {
        field: "instancePools",
        ocidType: "instancepool",
        states: INSTANCE_POOL_STATES,
      }) as InstancePoolSeed;
      const pool = this.#withDefaults(seed, now);
      const record = this.store.add(pool, now);
      const settle = SETTLES[pool.lifecycleState];
      if (settle) {
        record.target = settle.state;
        record.scheduleState(now + durationFor(this.env, settle.action, pool.id), settle.state);
      }
      const members = this.#seedMembers(pool, seed.instanceIds, now);
      this.#members.set(pool.id, members);
      pool.size = members.length;
      return this.describe(pool);
    });
  }

  /** The pool as the admin API and the state snapshot show it: with `instanceIds`. */
  describe(pool: InstancePoolJson): InstancePoolSeed {
    return { ...pool, instanceIds: [...(this.#members.get(pool.id) ?? [])] };
  }

  all(now: number): InstancePoolSeed[] {
    return this.store.all(now).map((p) => this.describe(p));
  }

  route(method: string, parts: readonly string[]): Routed | undefined {
    if (parts[0] !== "instancePools") return undefined;
    const id = segment(parts, 1);
    if (parts.length === 1 && method === "GET")
      return { operation: "ListInstancePools", run: (c) => this.#list(c) };
    if (parts.length === 2 && method === "GET") {
      return { operation: "GetInstancePool", targetId: id, run: (c) => this.#get(id, c) };
    }
    if (parts.length === 3 && parts[2] === "instances" && method === "GET") {
      return { operation: "ListInstancePoolInstances", targetId: id, run: (c) => this.#listMembers(id, c) };
    }
    const action = ACTIONS[parts[3] ?? ""];
    if (parts.length === 4 && parts[2] === "actions" && method === "POST" && action) {
      return {
        operation: `${action.charAt(0)}${action.slice(1).toLowerCase()}InstancePool`,
        targetId: id,
        action,
        run: (c) => this.#retries.answer(c, id, () => this.#act(id, action, c)),
      };
    }
    return undefined;
  }

  #get(id: string, c: ServiceCall) {
    const record = visible(this.store, id, "instancepool", c);
    return { status: 200, body: record.json, headers: { etag: record.etag } };
  }

  #list(c: ServiceCall) {
    const { compartmentId, paging } = parseListQuery(c.query);
    visibleCompartment(c, compartmentId);
    const state = optionalEnumQuery(c.query, "lifecycleState", INSTANCE_POOL_STATES);
    const name = c.query.get("displayName");
    const page = this.store.list(
      compartmentId,
      (p) => (state === undefined || p.lifecycleState === state) && (name === null || p.displayName === name),
      paging,
      c.now,
    );
    return { status: 200, body: page.items, headers: nextPageHeader(page) };
  }

  /** ListInstancePoolInstances: InstanceSummary items whose `state` follows the member instance. */
  #listMembers(id: string, c: ServiceCall) {
    const { compartmentId, paging } = parseListQuery(c.query);
    const pool = visible(this.store, id, "instancepool", c);
    visibleCompartment(c, compartmentId);
    const members = (this.#members.get(id) ?? [])
      .map((m) => this.env.instances.get(m, c.now)?.instance)
      .filter((m): m is InstanceJson => m !== undefined && m.compartmentId === compartmentId);
    const slice = members.slice(paging.page, paging.page + paging.limit);
    const next = paging.page + paging.limit < members.length ? paging.page + paging.limit : undefined;
    return {
      status: 200,
      body: slice.map((m) => summary(m, pool.json.instanceConfigurationId)),
      headers: nextPageHeader({ items: slice, nextPage: next }),
    };
  }

  /** A power action on the pool and, with the same timing, on each member instance. */
  #act(id: string, action: InstanceActionName, c: ServiceCall) {
    const record = visible(this.store, id, "instancepool", c);
    checkIfMatch(c.req.headers["if-match"], record);
    const isReset = action === "RESET" || action === "SOFTRESET";
    const wants = action === "START" || isReset ? "RUNNING" : "STOPPED";
    const decision = decidePower(record, {
      noun: "instance pool",
      action,
      wants: isReset ? "" : wants,
      from: [action === "START" ? "STOPPED" : "RUNNING"],
    });
    if (decision === "go") {
      const members = this.#members.get(id) ?? [];
      if (action === "START") this.#checkCapacity(record, members, c);
      const duration = Math.max(
        durationFor(this.env, action, id),
        ...members.map((m) => durationFor(this.env, action, m)),
      );
      this.#schedule(record, action, c.now, duration);
      for (const m of members) this.#moveMember(m, action, c.now);
      c.call.transition = true;
    }
    return { status: 200, body: record.json, headers: { etag: record.etag } };
  }

  #schedule(record: Tracked<InstancePoolJson>, action: InstanceActionName, now: number, duration: number) {
    const isReset = action === "RESET" || action === "SOFTRESET";
    record.enter(action === "START" ? "STARTING" : "STOPPING", now);
    if (isReset) record.scheduleState(now + duration / 2, "STARTING");
    const final = action === "START" || isReset ? "RUNNING" : "STOPPED";
    record.scheduleState(now + duration, final);
    record.target = final;
  }

  #checkCapacity(record: Tracked<InstancePoolJson>, members: readonly string[], c: ServiceCall) {
    const full =
      this.env.faults.outOfCapacityFor(record.json.id) ||
      members.some((m) => {
        const inst = this.env.instances.get(m, c.now)?.instance;
        return inst !== undefined && this.env.faults.outOfCapacityFor(m, inst.shape);
      });
    if (full) {
      c.call.fault = "outOfCapacity";
      throw new OciHttpError(500, "InternalError", "Out of host capacity.");
    }
  }

  /** Members already where the pool is going are left alone; the others take the same action. */
  #moveMember(memberId: string, action: InstanceActionName, now: number) {
    const ctx = {
      now,
      durations: this.env.timings.durationsMs,
      timeScale: this.env.timings.timeScale,
      holdMs: this.env.faults.holdMs(memberId),
    };
    try {
      this.env.instances.act(memberId, action, ctx, () => undefined);
    } catch (e) {
      // A member in a state the action cannot start from (e.g. a reset in flight) keeps its own
      // course; the pool's answer does not depend on it, as OCI reports member failures separately.
      if (!(e instanceof OciHttpError && e.status === 409)) throw e;
    }
  }

  #withDefaults(seed: InstancePoolSeed, now: number): InstancePoolJson {
    const { instanceIds: _ids, ...fields } = seed;
    return {
      instanceConfigurationId: fixedOcidIn(
        this.env.region,
        "instanceconfiguration",
        `emulator${this.store.nextSeq}`,
      ),
      placementConfigurations: [
        { availabilityDomain: availabilityDomainIn(this.env.region), faultDomains: [] },
      ],
      loadBalancers: [],
      ...fields,
      id: seed.id ?? ocidIn(this.env.region, "instancepool"),
      compartmentId: seed.compartmentId ?? this.env.tenancyId,
      displayName: seed.displayName ?? `instance-pool-${this.store.nextSeq}`,
      lifecycleState: seed.lifecycleState ?? "RUNNING",
      size: typeof seed.size === "number" && Number.isInteger(seed.size) && seed.size >= 0 ? seed.size : 2,
      timeCreated: seed.timeCreated ?? new Date(now).toISOString(),
      freeformTags: seed.freeformTags ?? {},
      definedTags: seed.definedTags ?? {},
    };
  }

  /** Given member ids are created when missing; otherwise `size` members are made, in the pool's state. */
  #seedMembers(pool: InstancePoolJson, given: unknown, now: number): string[] {
    if (given !== undefined && (!Array.isArray(given) || !given.every((s) => typeof s === "string"))) {
      throw new OciHttpError(
        400,
        "InvalidParameter",
        "instancePools[].instanceIds must be a list of instance OCIDs.",
      );
    }
    const running = ["RUNNING", "STARTING", "PROVISIONING", "SCALING"].includes(pool.lifecycleState);
    const ids =
      (given as string[] | undefined) ??
      Array.from({ length: pool.size }, () => ocidIn(this.env.region, "instance"));
    const ctx = {
      now,
      durations: this.env.timings.durationsMs,
      timeScale: this.env.timings.timeScale,
      holdMs: 0,
    };
    const missing = ids.filter((id) => this.env.instances.get(id, now) === undefined);
    this.env.instances.upsert(
      missing.map((id, k) => ({
        id,
        compartmentId: pool.compartmentId,
        displayName: `inst-${pool.displayName}-${k}`,
        lifecycleState: memberState(pool.lifecycleState, running),
      })),
      ctx,
    );
    return ids;
  }
}

function memberState(poolState: string, running: boolean): LifecycleState {
  if (poolState === "STARTING" || poolState === "STOPPING") return poolState;
  return running ? "RUNNING" : "STOPPED";
}

function summary(m: InstanceJson, instanceConfigurationId: string) {
  return {
    id: m.id,
    availabilityDomain: m.availabilityDomain,
    compartmentId: m.compartmentId,
    displayName: m.displayName,
    faultDomain: m.faultDomain,
    instanceConfigurationId,
    region: m.region,
    shape: m.shape,
    state: m.lifecycleState,
    timeCreated: m.timeCreated,
    loadBalancerBackends: [],
  };
}

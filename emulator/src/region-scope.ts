/**
 * One served region (issue 14): its own instances, faults (so its own rate limit per principal),
 * instance pools, node pools, container instances, shapes and retry-token answers. Keys, principals,
 * Functions, applications, topics, timings and the call log are the emulator's and shared by every
 * region.
 */
import { ContainerInstances } from "./container-instances.js";
import { FaultInjector, parseFaults } from "./faults.js";
import { InstancePools } from "./instance-pools.js";
import { type ActionPlanContext, InstanceStore } from "./instances.js";
import type { RegionState, Timings } from "./model.js";
import { NodePools } from "./node-pools.js";
import type { RegionInfo } from "./regions.js";
import type { Routed, Service } from "./service.js";
import { DEFAULT_SHAPES, parseShapes, type ShapeJson } from "./shapes.js";

export interface CachedAnswer {
  status: number;
  body: string;
  etag: string;
}

const RETRY_CACHE_CAP = 100_000;

export class RegionScope {
  readonly name: string;
  readonly key: string;
  readonly store: InstanceStore;
  readonly faults = new FaultInjector();
  readonly instancePools: InstancePools;
  readonly nodePools: NodePools;
  readonly containerInstances: ContainerInstances;
  /** The ListShapes catalogue (emulator/src/shapes.ts). */
  shapes: ShapeJson[];
  /** Compute power actions' first answers by (principal, instance, action, retry token). */
  readonly #retryCache = new Map<string, CachedAnswer>();
  /** Services by API version (issue 13); Compute instances keep their own routes. */
  readonly #services: ReadonlyMap<string, Service>;

  constructor(
    info: RegionInfo,
    readonly tenancyId: string,
    readonly timings: Timings,
    state: RegionState,
  ) {
    this.name = info.name;
    this.key = info.key;
    this.store = new InstanceStore(this.name, tenancyId);
    this.shapes = state.shapes ? parseShapes(state.shapes) : [...DEFAULT_SHAPES];
    if (state.faults) this.faults.set(parseFaults(state.faults));
    this.store.upsert(state.instances ?? [], this.planContext(""));
    const env = {
      region: this.name,
      tenancyId,
      timings,
      faults: this.faults,
      instances: this.store,
    };
    this.instancePools = new InstancePools(env);
    this.nodePools = new NodePools(env);
    this.containerInstances = new ContainerInstances(env);
    this.#services = new Map<string, Service>([
      ["20160918", this.instancePools],
      ["20180222", this.nodePools],
      ["20210415", this.containerInstances],
    ]);
    const now = Date.now();
    this.instancePools.upsert(state.instancePools ?? [], now);
    this.nodePools.upsert(state.nodePools ?? [], now);
    this.containerInstances.upsert(state.containerInstances ?? [], now);
  }

  planContext(instanceId: string): ActionPlanContext {
    return {
      now: Date.now(),
      durations: this.timings.durationsMs,
      timeScale: this.timings.timeScale,
      holdMs: instanceId ? this.faults.holdMs(instanceId) : 0,
    };
  }

  /** Instance pools, node pools, container instances; undefined: none of theirs. */
  route(method: string, path: string): Routed | undefined {
    const [version, ...parts] = path.split("/").filter(Boolean);
    return this.#services.get(version ?? "")?.route(method, parts);
  }

  cachedAnswer(key: string): CachedAnswer | undefined {
    return this.#retryCache.get(key);
  }

  cacheAnswer(key: string, answer: CachedAnswer): void {
    this.#retryCache.set(key, answer);
    if (this.#retryCache.size > RETRY_CACHE_CAP) {
      const oldest = this.#retryCache.keys().next().value;
      if (oldest !== undefined) this.#retryCache.delete(oldest);
    }
  }

  /** This region's part of the state, in the state-file format. */
  snapshot(now: number): Required<RegionState> {
    return {
      faults: this.faults.current,
      instances: this.store.all(now),
      instancePools: this.instancePools.all(now),
      nodePools: this.nodePools.store.all(now),
      containerInstances: this.containerInstances.store.all(now),
      shapes: this.shapes,
    };
  }
}

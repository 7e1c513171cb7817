/**
 * OKE node pools (Container Engine, API 20180222): GetNodePool, ListNodePools and UpdateNodePool
 * (`PUT /nodePools/{id}` with `nodeConfigDetails.size` and/or tags, answered 202 with
 * `opc-work-request-id`), plus the work requests that follow it. A size change schedules nodes
 * appearing (CREATING → ACTIVE) or draining (DELETING → gone) one after another across the action's
 * duration; the work request succeeds when the last one is done, or fails (nodes that never came up
 * removed, pool NEEDS_ATTENTION) when an out-of-capacity fault names the pool.
 */
import { invalidParameter, OciHttpError } from "./errors.js";
import { parseJsonObject } from "./http-util.js";
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
  isObject,
  nextPageHeader,
  optionalEnumQuery,
  parseFreeformTags,
  parseListQuery,
  type ResourceJson,
  type Tracked,
  TrackedStore,
} from "./tracked.js";
import { WorkRequests } from "./work-requests.js";

export const NODE_POOL_STATES = [
  "DELETED",
  "CREATING",
  "ACTIVE",
  "UPDATING",
  "DELETING",
  "FAILED",
  "INACTIVE",
  "NEEDS_ATTENTION",
] as const;

/** Largest size accepted (OKE's per-pool node limit). */
export const NODE_POOL_MAX_SIZE = 1000;

export interface NodeJson {
  id: string;
  name: string;
  nodePoolId: string;
  availabilityDomain: string;
  faultDomain: string;
  kubernetesVersion: string;
  lifecycleState: string;
  lifecycleDetails: string;
}

/** A NodePool in the SDK model's field names (oci-containerengine `models.NodePool`). */
export interface NodePoolJson extends ResourceJson {
  clusterId: string;
  name: string;
  kubernetesVersion: string;
  nodeShape: string;
  nodeConfigDetails: { size: number; placementConfigs: unknown[]; [k: string]: unknown };
  nodes: NodeJson[];
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
}

/** What UpdateNodePool changes here; other fields of the body are accepted and ignored. */
interface NodePoolUpdate {
  size?: number;
  freeformTags?: Record<string, string>;
  definedTags?: Record<string, Record<string, unknown>>;
  name?: string;
}

const UPDATABLE_FROM = ["ACTIVE", "NEEDS_ATTENTION"];

export class NodePools implements Service {
  readonly store = new TrackedStore<NodePoolJson>("node pool");
  readonly workRequests: WorkRequests;
  readonly #retries = new RetryCache();

  constructor(private readonly env: ServiceEnv) {
    this.workRequests = new WorkRequests("clustersworkrequest", env.region);
  }

  upsert(seeds: readonly unknown[], now: number): NodePoolJson[] {
    return seeds.map((input) => {
      const seed = checkSeed(input, { field: "nodePools", ocidType: "nodepool", states: NODE_POOL_STATES });
      const pool = this.#withDefaults(seed as Partial<NodePoolJson> & { size?: unknown }, now);
      this.store.add(pool, now);
      return pool;
    });
  }

  route(method: string, parts: readonly string[]): Routed | undefined {
    const wr = this.workRequests.route(method, parts, false);
    if (wr) return wr;
    if (parts[0] !== "nodePools") return undefined;
    const id = segment(parts, 1);
    if (parts.length === 1 && method === "GET")
      return { operation: "ListNodePools", run: (c) => this.#list(c) };
    if (parts.length !== 2) return undefined;
    if (method === "GET") return { operation: "GetNodePool", targetId: id, run: (c) => this.#get(id, c) };
    if (method === "PUT") {
      return {
        operation: "UpdateNodePool",
        targetId: id,
        run: (c) => this.#retries.answer(c, id, () => this.#update(id, c)),
      };
    }
    return undefined;
  }

  #get(id: string, c: ServiceCall) {
    const record = visible(this.store, id, "nodepool", c);
    return { status: 200, body: record.json, headers: { etag: record.etag } };
  }

  #list(c: ServiceCall) {
    const { compartmentId, paging } = parseListQuery(c.query);
    visibleCompartment(c, compartmentId);
    const state = optionalEnumQuery(c.query, "lifecycleState", NODE_POOL_STATES);
    const clusterId = c.query.get("clusterId");
    const name = c.query.get("name");
    const page = this.store.list(
      compartmentId,
      (p) =>
        (state === undefined || p.lifecycleState === state) &&
        (clusterId === null || p.clusterId === clusterId) &&
        (name === null || p.name === name),
      paging,
      c.now,
    );
    // NodePoolSummary has no `nodes`.
    const items = page.items.map(({ nodes: _nodes, ...summary }) => summary);
    return { status: 200, body: items, headers: nextPageHeader(page) };
  }

  #update(id: string, c: ServiceCall) {
    const update = parseUpdate(c.body);
    const record = visible(this.store, id, "nodepool", c);
    checkIfMatch(c.req.headers["if-match"], record);
    const pool = record.json;
    if (!UPDATABLE_FROM.includes(pool.lifecycleState) || record.busy) {
      throw new OciHttpError(
        409,
        "IncorrectState",
        `The node pool ${pool.id} is ${pool.lifecycleState}${record.busy ? " with an update in progress" : ""}; UpdateNodePool needs ${UPDATABLE_FROM.join(" or ")} with no update in progress.`,
      );
    }
    if (update.freeformTags) pool.freeformTags = update.freeformTags;
    if (update.definedTags) pool.definedTags = update.definedTags;
    if (update.name !== undefined) pool.name = update.name;
    record.version++;
    const from = pool.nodes.length;
    const to = update.size ?? pool.nodeConfigDetails.size;
    pool.nodeConfigDetails.size = to;
    const resize = to === from ? undefined : this.#resize(record, to, c);
    const wrId = this.workRequests.accept(
      {
        compartmentId: pool.compartmentId,
        operationType: "NODEPOOL_UPDATE",
        entityType: "nodepool",
        targetId: pool.id,
        entityUri: `/20180222/nodePools/${pool.id}`,
        startAt: c.now + (resize ? resize.duration / 10 : 0),
        endAt: c.now + (resize?.duration ?? 0),
        ...(resize?.failed ? { failure: { code: "InternalError", message: "Out of host capacity." } } : {}),
      },
      c.now,
    );
    return { status: 202, headers: { "opc-work-request-id": wrId, etag: record.etag } };
  }

  /** Schedule nodes appearing or draining one by one across the action's duration. */
  #resize(record: Tracked<NodePoolJson>, to: number, c: ServiceCall) {
    const pool = record.json;
    const growing = to > pool.nodes.length;
    const duration = durationFor(this.env, growing ? "START" : "STOP", pool.id);
    const failed = growing && this.env.faults.outOfCapacityFor(pool.id, pool.nodeShape);
    if (failed) c.call.fault = "outOfCapacity";
    record.enter("UPDATING", c.now);
    const moving = growing
      ? Array.from({ length: to - pool.nodes.length }, () => this.#newNode(pool, "CREATING"))
      : pool.nodes.slice(to);
    if (growing) pool.nodes.push(...moving);
    for (const node of moving) {
      if (!growing) node.lifecycleState = "DELETING";
      node.lifecycleDetails = growing ? "Creating node" : "Draining and deleting node";
    }
    moving.forEach((node, k) => {
      const at = c.now + (duration * (k + 1)) / moving.length;
      record.schedule(at, () => {
        record.version++;
        if (growing && !failed) {
          node.lifecycleState = "ACTIVE";
          node.lifecycleDetails = "";
        } else {
          pool.nodes = pool.nodes.filter((n) => n.id !== node.id);
        }
      });
    });
    const final = failed ? "NEEDS_ATTENTION" : "ACTIVE";
    record.scheduleState(c.now + duration, final);
    record.target = final;
    c.call.transition = true;
    return { duration, failed };
  }

  #newNode(pool: NodePoolJson, state: string): NodeJson {
    const id = ocidIn(this.env.region, "instance");
    return {
      id,
      name: `oke-${pool.name}-${id.slice(-6)}`,
      nodePoolId: pool.id,
      availabilityDomain: availabilityDomainIn(this.env.region),
      faultDomain: "FAULT-DOMAIN-1",
      kubernetesVersion: pool.kubernetesVersion,
      lifecycleState: state,
      lifecycleDetails: "",
    };
  }

  #withDefaults(seed: Partial<NodePoolJson> & { size?: unknown }, now: number): NodePoolJson {
    const configSize = isObject(seed.nodeConfigDetails) ? seed.nodeConfigDetails.size : undefined;
    const size = parseSize(seed.size ?? configSize ?? 3, "nodePools[].size");
    const { size: _size, nodes: _nodes, ...fields } = seed;
    const pool: NodePoolJson = {
      kubernetesVersion: "v1.31.1",
      nodeShape: "VM.Standard.E4.Flex",
      nodeShapeConfig: { ocpus: 1, memoryInGBs: 16 },
      timeCreated: new Date(now).toISOString(),
      systemTags: {},
      ...fields,
      id: seed.id ?? ocidIn(this.env.region, "nodepool"),
      compartmentId: seed.compartmentId ?? this.env.tenancyId,
      clusterId: seed.clusterId ?? fixedOcidIn(this.env.region, "cluster", `emulator${this.store.nextSeq}`),
      name: seed.name ?? `pool-${this.store.nextSeq}`,
      lifecycleState: seed.lifecycleState ?? "ACTIVE",
      nodeConfigDetails: {
        placementConfigs: [
          {
            availabilityDomain: availabilityDomainIn(this.env.region),
            subnetId: fixedOcidIn(this.env.region, "subnet", "emulator"),
          },
        ],
        ...(isObject(seed.nodeConfigDetails) ? seed.nodeConfigDetails : {}),
        size,
      },
      nodes: [],
      freeformTags: seed.freeformTags ?? {},
      definedTags: seed.definedTags ?? {},
    };
    pool.nodes = Array.from({ length: size }, () => this.#newNode(pool, "ACTIVE"));
    return pool;
  }
}

function parseSize(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > NODE_POOL_MAX_SIZE) {
    throw invalidParameter(
      `${field} must be an integer from 0 to ${NODE_POOL_MAX_SIZE}: ${String(v).slice(0, 50)}`,
    );
  }
  return v;
}

/** UpdateNodePoolDetails, validated where this emulator acts on it. */
function parseUpdate(body: Buffer): NodePoolUpdate {
  // The SDK sends no body for an empty UpdateNodePoolDetails.
  const details = body.length === 0 ? {} : parseJsonObject(body, "UpdateNodePoolDetails");
  const out: NodePoolUpdate = {};
  const config = details.nodeConfigDetails;
  if (config !== undefined && config !== null) {
    if (!isObject(config)) throw invalidParameter("nodeConfigDetails must be an object.");
    if (config.size !== undefined && config.size !== null)
      out.size = parseSize(config.size, "nodeConfigDetails.size");
  }
  if (details.freeformTags !== undefined && details.freeformTags !== null) {
    out.freeformTags = parseFreeformTags(details.freeformTags, "freeformTags");
  }
  if (details.definedTags !== undefined && details.definedTags !== null) {
    if (!isObject(details.definedTags)) throw invalidParameter("definedTags must be an object.");
    out.definedTags = details.definedTags as Record<string, Record<string, unknown>>;
  }
  if (details.name !== undefined && details.name !== null) {
    if (typeof details.name !== "string" || details.name.length === 0)
      throw invalidParameter("name must be a non-empty string.");
    out.name = details.name;
  }
  return out;
}

/**
 * The OCI adapters of the other kinds, each on its real SDK client with our signing transport
 * (oci-compute.ts): instance pools (oci-core ComputeManagementClient), OKE node pools
 * (oci-containerengine ContainerEngineClient) and container instances (oci-containerinstances
 * ContainerInstanceClient). Loaded only when a target of one of these kinds comes up.
 */
import type { AuthenticationDetailsProvider, Region } from "oci-common";
import { ContainerEngineClient } from "oci-containerengine/lib/client.js";
import type { NodePool } from "oci-containerengine/lib/model/node-pool.js";
import type { NodePoolSummary } from "oci-containerengine/lib/model/node-pool-summary.js";
import { ContainerInstanceClient } from "oci-containerinstances/lib/client.js";
import type { ContainerInstance } from "oci-containerinstances/lib/model/container-instance.js";
import type { ContainerInstanceSummary } from "oci-containerinstances/lib/model/container-instance-summary.js";
import { ComputeManagementClient } from "oci-core/lib/client.js";
import type { InstancePool } from "oci-core/lib/model/instance-pool.js";
import type { InstancePoolSummary } from "oci-core/lib/model/instance-pool-summary.js";
import type { ActionOptions, InstanceView, KindPort, PowerAction } from "./compute.js";
import type { AuthMode, Env } from "./config.js";
import { ComputeError } from "./errors.js";
import {
  containerInstanceState,
  DEFAULT_NODE_POOL_SIZE_TAG_KEY,
  instancePoolState,
  nodePoolState,
  nodePoolUpdate,
} from "./kinds.js";
import { callOci, RecordingHttpClient, setEndpoint } from "./oci-compute.js";

const PAGE_LIMIT = 1000;
const MAX_PAGES = 100;

export interface KindContext {
  provider: AuthenticationDetailsProvider;
  mode: AuthMode;
  env: Env;
  /** The region the clients call (absent: the credentials' region). */
  region?: Region;
}

type Tags = Record<string, Record<string, unknown>>;

/** Every page of a listing (opc-next-page), bounded. */
async function allPages<T>(
  what: string,
  page: (token: string | undefined) => Promise<{ items: T[]; next: string | undefined }>,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  for (let n = 0; n < MAX_PAGES; n++) {
    const res = await page(token);
    out.push(...res.items);
    token = res.next;
    if (!token) return out;
  }
  throw new ComputeError("ServiceError", `listing ${what} returned more than ${MAX_PAGES} pages`, {
    transient: false,
  });
}

function present<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) {
    throw new ComputeError("ServiceError", `OCI answered ${what} without its resource`, { transient: true });
  }
  return value;
}

// ---------------------------------------------------------------- instance pools

function poolView(pool: InstancePool | InstancePoolSummary): InstanceView {
  const native = String(pool.lifecycleState);
  const view: InstanceView = {
    id: pool.id,
    compartmentId: pool.compartmentId,
    displayName: pool.displayName ?? "",
    lifecycleState: instancePoolState(native),
    freeformTags: pool.freeformTags ?? {},
    definedTags: (pool.definedTags ?? {}) as Tags,
    kind: "instance_pool",
    nativeState: native,
  };
  if (pool.size !== undefined) view.size = pool.size;
  return view;
}

export class OciInstancePools implements KindPort {
  constructor(
    private readonly client: ComputeManagementClient,
    private readonly mode: AuthMode,
  ) {}

  async get(id: string, signal?: AbortSignal): Promise<InstanceView> {
    const res = await callOci(signal, this.mode, () => this.client.getInstancePool({ instancePoolId: id }));
    return poolView(present(res.instancePool, "GetInstancePool"));
  }

  async list(compartmentId: string, signal?: AbortSignal): Promise<InstanceView[]> {
    const items = await allPages(compartmentId, async (page) => {
      const res = await callOci(signal, this.mode, () =>
        this.client.listInstancePools({ compartmentId, limit: PAGE_LIMIT, ...(page ? { page } : {}) }),
      );
      return { items: res.items ?? [], next: res.opcNextPage };
    });
    return items.map(poolView);
  }

  async act(
    id: string,
    action: PowerAction,
    retryToken: string,
    signal?: AbortSignal,
  ): Promise<InstanceView> {
    const request = { instancePoolId: id, opcRetryToken: retryToken };
    const res = await callOci(signal, this.mode, () => {
      if (action === "START") return this.client.startInstancePool(request);
      if (action === "STOP") return this.client.stopInstancePool(request);
      return this.client.softstopInstancePool(request);
    });
    return poolView(present(res.instancePool, `${action} of the instance pool`));
  }

  async members(id: string, signal?: AbortSignal): Promise<string[]> {
    const pool = await this.get(id, signal);
    const items = await allPages(id, async (page) => {
      const res = await callOci(signal, this.mode, () =>
        this.client.listInstancePoolInstances({
          compartmentId: pool.compartmentId,
          instancePoolId: id,
          limit: PAGE_LIMIT,
          ...(page ? { page } : {}),
        }),
      );
      return { items: res.items ?? [], next: res.opcNextPage };
    });
    return items.map((m) => m.id);
  }
}

// ---------------------------------------------------------------- node pools

/** Work requests this process started per node pool, until seen to end (the wait follows them). */
type Pending = Map<string, string>;

export class OciNodePools implements KindPort {
  private readonly pending: Pending = new Map();

  constructor(
    private readonly client: ContainerEngineClient,
    private readonly mode: AuthMode,
    private readonly tagKey: string,
  ) {}

  private view(pool: NodePool | NodePoolSummary, workRequest?: string): InstanceView {
    const native = String(pool.lifecycleState);
    const size = pool.nodeConfigDetails?.size ?? 0;
    const nodes = "nodes" in pool && pool.nodes ? pool.nodes : undefined;
    const lifecycleState = nodePoolState({
      lifecycleState: native,
      size,
      nodes: nodes ? nodes.length : size,
      activeNodes: nodes ? nodes.filter((n) => String(n.lifecycleState) === "ACTIVE").length : size,
      workRequest,
    });
    return {
      id: pool.id ?? "",
      compartmentId: pool.compartmentId ?? "",
      displayName: pool.name ?? "",
      lifecycleState,
      freeformTags: pool.freeformTags ?? {},
      definedTags: (pool.definedTags ?? {}) as Tags,
      kind: "node_pool",
      size,
    };
  }

  private async read(id: string, signal?: AbortSignal): Promise<{ pool: NodePool; etag: string }> {
    const res = await callOci(signal, this.mode, () => this.client.getNodePool({ nodePoolId: id }));
    return { pool: present(res.nodePool, "GetNodePool"), etag: res.etag };
  }

  /** The work request's status; a FAILED one is reported with its errors. */
  private async followWorkRequest(
    poolId: string,
    signal?: AbortSignal,
  ): Promise<{ status?: string; failure?: InstanceView["failure"] }> {
    const workRequestId = this.pending.get(poolId);
    if (!workRequestId) return {};
    const res = await callOci(signal, this.mode, () => this.client.getWorkRequest({ workRequestId }));
    const status = String(res.workRequest?.status ?? "");
    if (status === "ACCEPTED" || status === "IN_PROGRESS" || status === "CANCELING") return { status };
    this.pending.delete(poolId);
    if (status !== "FAILED" && status !== "CANCELED") return { status };
    const errors = await callOci(signal, this.mode, () =>
      this.client.listWorkRequestErrors({
        workRequestId,
        compartmentId: res.workRequest?.compartmentId ?? "",
      }),
    ).catch(() => undefined);
    const detail = (errors?.items ?? []).map((e) => `${e.code}: ${e.message}`).join("; ");
    return {
      status,
      failure: {
        code: "WorkRequestFailed",
        message:
          `work request ${workRequestId} for node pool ${poolId} ${status}${detail ? ` (${detail})` : ""}`.slice(
            0,
            400,
          ),
      },
    };
  }

  async get(id: string, signal?: AbortSignal): Promise<InstanceView> {
    const followed = await this.followWorkRequest(id, signal);
    const { pool } = await this.read(id, signal);
    const view = this.view(pool, followed.status);
    if (followed.failure) view.failure = followed.failure;
    return view;
  }

  /** Listing has no nodes: each listed pool is read for its node count (node pools are few). */
  async list(compartmentId: string, signal?: AbortSignal): Promise<InstanceView[]> {
    const items = await allPages(compartmentId, async (page) => {
      const res = await callOci(signal, this.mode, () =>
        this.client.listNodePools({ compartmentId, limit: PAGE_LIMIT, ...(page ? { page } : {}) }),
      );
      return { items: res.items ?? [], next: res.opcNextPage };
    });
    const live = items.filter((p) => p.id && p.lifecycleState !== "DELETED");
    return await Promise.all(live.map(async (p) => await this.get(p.id ?? "", signal)));
  }

  /**
   * One UpdateNodePool with the pool's etag (If-Match): size and the size tag together. Read first,
   * so a retry after a lost answer that did apply never records size 0 over the real size.
   */
  async act(
    id: string,
    action: PowerAction,
    _retryToken: string,
    signal?: AbortSignal,
    options?: ActionOptions,
  ): Promise<InstanceView> {
    const { pool, etag } = await this.read(id, signal);
    const size = pool.nodeConfigDetails?.size ?? 0;
    if ((action === "START") === size > 0)
      return this.view(pool, this.pending.has(id) ? "IN_PROGRESS" : undefined);
    const update = nodePoolUpdate(
      action,
      { id, size, freeformTags: pool.freeformTags ?? {} },
      this.tagKey,
      options?.size,
    );
    let workRequestId: string;
    try {
      const res = await callOci(signal, this.mode, () =>
        this.client.updateNodePool({
          nodePoolId: id,
          ifMatch: etag,
          updateNodePoolDetails: {
            nodeConfigDetails: { size: update.size },
            freeformTags: update.freeformTags,
          },
        }),
      );
      workRequestId = res.opcWorkRequestId;
    } catch (error) {
      if (error instanceof ComputeError && error.status === 412) {
        throw new ComputeError(
          "IncorrectState",
          `node pool ${id} changed while being updated (${error.message})`,
          {
            transient: true,
            status: 409,
            opcRequestId: error.opcRequestId,
          },
        );
      }
      throw error;
    }
    if (workRequestId) this.pending.set(id, workRequestId);
    const moved = { ...pool, nodeConfigDetails: { ...pool.nodeConfigDetails, size: update.size } };
    return this.view({ ...moved, freeformTags: update.freeformTags }, "ACCEPTED");
  }
}

// ---------------------------------------------------------------- container instances

function containerView(ci: ContainerInstance | ContainerInstanceSummary): InstanceView {
  const native = String(ci.lifecycleState);
  return {
    id: ci.id,
    compartmentId: ci.compartmentId,
    displayName: ci.displayName ?? "",
    lifecycleState: containerInstanceState(native),
    freeformTags: ci.freeformTags ?? {},
    definedTags: (ci.definedTags ?? {}) as Tags,
    kind: "container_instance",
    nativeState: native,
  };
}

export class OciContainerInstances implements KindPort {
  constructor(
    private readonly client: ContainerInstanceClient,
    private readonly mode: AuthMode,
  ) {}

  async get(id: string, signal?: AbortSignal): Promise<InstanceView> {
    const res = await callOci(signal, this.mode, () =>
      this.client.getContainerInstance({ containerInstanceId: id }),
    );
    return containerView(present(res.containerInstance, "GetContainerInstance"));
  }

  async list(compartmentId: string, signal?: AbortSignal): Promise<InstanceView[]> {
    const items = await allPages(compartmentId, async (page) => {
      const res = await callOci(signal, this.mode, () =>
        this.client.listContainerInstances({ compartmentId, limit: PAGE_LIMIT, ...(page ? { page } : {}) }),
      );
      return { items: res.containerInstanceCollection?.items ?? [], next: res.opcNextPage };
    });
    return items.map(containerView);
  }

  /** Start/Stop answer 202 with a work request and no body: the state is read by the wait. */
  async act(
    id: string,
    action: PowerAction,
    _retryToken: string,
    signal?: AbortSignal,
  ): Promise<InstanceView> {
    const before = await this.get(id, signal);
    await callOci(signal, this.mode, () =>
      action === "START"
        ? this.client.startContainerInstance({ containerInstanceId: id })
        : this.client.stopContainerInstance({ containerInstanceId: id }),
    );
    return { ...before, lifecycleState: action === "START" ? "STARTING" : "STOPPING" };
  }
}

// ---------------------------------------------------------------- construction

function tagKeyOf(env: Env): string {
  const key = env.NODE_POOL_SIZE_TAG_KEY?.trim() || DEFAULT_NODE_POOL_SIZE_TAG_KEY;
  if (key.length > 100 || /[\s.]/.test(key)) {
    throw new ComputeError(
      "InvalidConfiguration",
      `configuration NODE_POOL_SIZE_TAG_KEY must be a freeform tag key of at most 100 characters without spaces or dots, got ${JSON.stringify(key.slice(0, 40))}`,
      { transient: false },
    );
  }
  return key;
}

export function createInstancePools(c: KindContext): OciInstancePools {
  const client = new ComputeManagementClient({ httpClient: new RecordingHttpClient(c.provider) });
  setEndpoint(client, c.provider, c.env, ["OCI_COMPUTE_ENDPOINT"], "Compute Management", c.region);
  return new OciInstancePools(client, c.mode);
}

export function createNodePools(c: KindContext): OciNodePools {
  const tagKey = tagKeyOf(c.env);
  const client = new ContainerEngineClient({ httpClient: new RecordingHttpClient(c.provider) });
  setEndpoint(client, c.provider, c.env, [], "Container Engine", c.region);
  return new OciNodePools(client, c.mode, tagKey);
}

export function createContainerInstances(c: KindContext): OciContainerInstances {
  const client = new ContainerInstanceClient({ httpClient: new RecordingHttpClient(c.provider) });
  setEndpoint(client, c.provider, c.env, [], "Container Instances", c.region);
  return new OciContainerInstances(client, c.mode);
}

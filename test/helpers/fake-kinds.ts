/**
 * An in-memory KindPort (instance pools, node pools or container instances) for unit tests: the
 * resource answers in the instance vocabulary, an action moves it to STARTING/STOPPING and the next
 * read finishes the move. Node pools keep the size and the size tag as the OCI adapter writes them
 * (through the same nodePoolUpdate rule). Every call is logged; listed ids can be given members.
 */
import type { ActionOptions, InstanceView, KindPort, PowerAction } from "../../src/compute.js";
import { ComputeError } from "../../src/errors.js";
import { DEFAULT_NODE_POOL_SIZE_TAG_KEY, nodePoolUpdate, type OtherKind } from "../../src/kinds.js";

export interface FakeKindCall {
  operation: "get" | "list" | "act" | "members";
  id?: string;
  action?: PowerAction;
  retryToken?: string;
  size?: number | undefined;
}

interface Stored {
  view: InstanceView;
  /** State the next read moves to. */
  next?: string;
  members: string[];
}

export class FakeKind implements KindPort {
  readonly calls: FakeKindCall[] = [];
  private readonly items = new Map<string, Stored>();

  constructor(readonly kind: OtherKind) {}

  put(
    view: Omit<InstanceView, "kind" | "displayName" | "freeformTags" | "definedTags"> & Partial<InstanceView>,
    members: string[] = [],
  ): void {
    this.items.set(view.id, {
      view: { displayName: "", freeformTags: {}, definedTags: {}, ...view, kind: this.kind },
      members,
    });
  }

  state(id: string): InstanceView | undefined {
    return this.items.get(id)?.view;
  }

  private find(id: string): Stored {
    const item = this.items.get(id);
    if (!item)
      throw new ComputeError("NotAuthorizedOrNotFound", `no ${this.kind} ${id}`, {
        transient: false,
        status: 404,
      });
    return item;
  }

  async get(id: string): Promise<InstanceView> {
    this.calls.push({ operation: "get", id });
    const item = this.find(id);
    if (item.next) {
      item.view = { ...item.view, lifecycleState: item.next };
      item.next = undefined;
    }
    return { ...item.view };
  }

  async list(compartmentId: string): Promise<InstanceView[]> {
    this.calls.push({ operation: "list" });
    return [...this.items.values()]
      .filter((i) => i.view.compartmentId === compartmentId)
      .map((i) => ({ ...i.view }));
  }

  async act(
    id: string,
    action: PowerAction,
    retryToken: string,
    _signal?: AbortSignal,
    options?: ActionOptions,
  ): Promise<InstanceView> {
    this.calls.push({ operation: "act", id, action, retryToken, size: options?.size });
    const item = this.find(id);
    const starting = action === "START";
    if (this.kind === "node_pool") {
      const update = nodePoolUpdate(
        action,
        { id, size: item.view.size ?? 0, freeformTags: item.view.freeformTags },
        DEFAULT_NODE_POOL_SIZE_TAG_KEY,
        options?.size,
      );
      item.view = { ...item.view, size: update.size, freeformTags: update.freeformTags };
    }
    item.view = { ...item.view, lifecycleState: starting ? "STARTING" : "STOPPING" };
    item.next = starting ? "RUNNING" : "STOPPED";
    return { ...item.view };
  }

  async members(id: string): Promise<string[]> {
    this.calls.push({ operation: "members", id });
    return [...this.find(id).members];
  }
}

/**
 * The Compute port over every kind: instance OCIDs go to the instance port, the others to their
 * kind's port (instance pools, node pools, container instances), each created on first use so an
 * invocation that touches only instances never loads another SDK client.
 */
import type { ActionOptions, ComputePort, InstanceView, KindPort, PowerAction } from "./compute.js";
import { kindOfId, type OtherKind } from "./kinds.js";

export type KindFactories = Record<OtherKind, () => Promise<KindPort>>;

export class KindRouter implements ComputePort {
  private readonly ports = new Map<OtherKind, Promise<KindPort>>();

  constructor(
    private readonly instances: ComputePort,
    private readonly factories: KindFactories,
  ) {}

  private port(kind: OtherKind): Promise<KindPort> {
    let port = this.ports.get(kind);
    if (!port) {
      const created = this.factories[kind]();
      port = created;
      this.ports.set(kind, created);
      // A failed creation (bad config) is not cached: the next invocation tries again.
      created.catch(() => {
        if (this.ports.get(kind) === created) this.ports.delete(kind);
      });
    }
    return port;
  }

  async getInstance(id: string, signal?: AbortSignal): Promise<InstanceView> {
    const kind = kindOfId(id);
    if (kind === "instance") return await this.instances.getInstance(id, signal);
    return await (await this.port(kind)).get(id, signal);
  }

  async listInstances(compartmentId: string, signal?: AbortSignal): Promise<InstanceView[]> {
    return await this.instances.listInstances(compartmentId, signal);
  }

  async instanceAction(
    id: string,
    action: PowerAction,
    retryToken: string,
    signal?: AbortSignal,
    options?: ActionOptions,
  ): Promise<InstanceView> {
    const kind = kindOfId(id);
    if (kind === "instance") return await this.instances.instanceAction(id, action, retryToken, signal);
    return await (await this.port(kind)).act(id, action, retryToken, signal, options);
  }

  async listOfKind(kind: OtherKind, compartmentId: string, signal?: AbortSignal): Promise<InstanceView[]> {
    return await (await this.port(kind)).list(compartmentId, signal);
  }

  async poolMembers(poolId: string, signal?: AbortSignal): Promise<string[]> {
    const port = await this.port("instance_pool");
    return port.members ? await port.members(poolId, signal) : [];
  }
}

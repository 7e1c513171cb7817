/**
 * Identity's ListRegionSubscriptions (`GET /20160918/tenancies/{tenancyId}/regionSubscriptions`,
 * issue 14): the functions read it once per invocation for `regions: "all"`. It answers every served
 * region, the default one as the home region. Its own fault (`PUT /_emulator/identity/faults`) lets a
 * test make the listing fail while every other service keeps working.
 */
import { notFound } from "./errors.js";
import type { RegionInfo } from "./regions.js";
import { type Routed, type ServiceAnswer, segment } from "./service.js";
import { parseServiceFault, type ServiceFault, throwServiceFault } from "./service-faults.js";

/** oci-identity's `models.RegionSubscription`, as JSON. */
export interface RegionSubscriptionJson {
  regionKey: string;
  regionName: string;
  status: "READY" | "IN_PROGRESS";
  isHomeRegion: boolean;
}

export interface IdentityHost {
  readonly tenancyId: string;
  /** The home (default) region's name. */
  readonly region: string;
  /** Every served region, the default one first. */
  servedRegions(): RegionInfo[];
}

export class IdentityService {
  #fault: ServiceFault | undefined;

  constructor(private readonly host: IdentityHost) {}

  /** `parts`: the path segments after `20160918`. Undefined: not an Identity route. */
  route(method: string, parts: readonly string[]): Routed | undefined {
    if (parts.length !== 3 || parts[0] !== "tenancies" || parts[2] !== "regionSubscriptions")
      return undefined;
    if (method !== "GET") return undefined;
    const tenancyId = segment(parts, 1);
    return {
      operation: "ListRegionSubscriptions",
      targetId: tenancyId,
      run: () => this.#list(tenancyId),
    };
  }

  #list(tenancyId: string): ServiceAnswer {
    throwServiceFault(this.#fault, "ListRegionSubscriptions");
    if (tenancyId !== this.host.tenancyId) throw notFound(`tenancy ${tenancyId}`);
    const body: RegionSubscriptionJson[] = this.host.servedRegions().map((r) => ({
      regionKey: r.key.toUpperCase(),
      regionName: r.name,
      status: "READY",
      isHomeRegion: r.name === this.host.region,
    }));
    return { status: 200, body };
  }

  /** `PUT /_emulator/identity/faults {"status"?, "count"?}`; undefined: not ours. */
  admin(method: string, path: string, json: () => Record<string, unknown>): unknown {
    if (`${method} ${path.replace(/\/+$/, "")}` !== "PUT /_emulator/identity/faults") return undefined;
    this.#fault = parseServiceFault(json(), "identity");
    return this.#fault ?? {};
  }
}

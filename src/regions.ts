/**
 * Regions: which region each target lives in and the ports that reach each region. Pure (no SDK):
 * the OCI adapter (oci-regions.ts) fills RegionalCompute with oci-common's region tables; unit tests
 * use an in-memory one.
 *
 * An OCID names its region in its fourth segment: ocid1.<type>.<realm>.<region>.<unique>. The
 * segment is a region key (iad, phx, fra) or, for newer regions, the region's name
 * (e.g. eu-madrid-1); it is empty for global resources (tenancies, compartments) and for OCIDs some
 * tools write by hand, which then mean the function's own region.
 */
import type { ComputePort } from "./compute.js";

export interface RegionalCompute {
  /** The function's own region name (from its credentials). */
  readonly homeRegion: string;
  /** The region name an OCID segment means in its realm, or undefined when it means none known. */
  regionOf(realm: string, segment: string): string | undefined;
  /** Whether a region name is one the SDK knows (e.g. us-ashburn-1). */
  isRegion(name: string): boolean;
  /** The port of one region (every kind), made once and kept for the process. */
  forRegion(region: string): ComputePort;
  /** The tenancy's subscribed regions (Identity ListRegionSubscriptions), READY ones only. */
  subscribedRegions(signal: AbortSignal): Promise<string[]>;
}

export type IdRegion = { ok: true; region: string } | { ok: false; segment: string };

/** The region an OCID lives in: its region segment, or the home region when the segment is empty. */
export function regionOfId(id: string, regional: Pick<RegionalCompute, "homeRegion" | "regionOf">): IdRegion {
  const parts = id.split(".");
  const realm = parts[2] ?? "";
  const segment = parts.length >= 5 ? (parts[3] ?? "") : "";
  if (segment === "") return { ok: true, region: regional.homeRegion };
  const region = regional.regionOf(realm, segment);
  return region ? { ok: true, region } : { ok: false, segment };
}

/**
 * One region for every target: a single injected port (unit tests, benchmarks with a fake). Every
 * OCID segment maps to the home region, so the batch behaves exactly as it did before regions.
 */
export function singleRegion(port: ComputePort, homeRegion: string): RegionalCompute {
  return {
    homeRegion,
    regionOf: () => homeRegion,
    isRegion: (name) => name === homeRegion,
    forRegion: () => port,
    subscribedRegions: async () => [homeRegion],
  };
}

export function isRegionalCompute(value: object): value is RegionalCompute {
  return typeof (value as Partial<RegionalCompute>).forRegion === "function";
}

/**
 * Region names and keys (issue 14). The emulator serves several regions from one process, each
 * under its own base URL (`http://127.0.0.1:PORT/<region-name>`). Names and keys come from
 * oci-common's own region table, so an OCID the emulator makes carries exactly the key the SDK
 * (and the functions) map back to that region.
 */
import * as common from "oci-common";
import { invalidParameter } from "./errors.js";
import { newOcid } from "./ocid.js";

export interface RegionInfo {
  /** The region's name, e.g. `us-phoenix-1`. */
  name: string;
  /** The lowercase key OCIDs carry, e.g. `phx`. */
  key: string;
  /** The realm, e.g. `oc1`. */
  realm: string;
}

/** What a region name looks like (`us-ashburn-1`, `ap-chiyoda-1`, `us-langley-1`...). */
const REGION_NAME_RE = /^[a-z]{2,}(-[a-z]+)+-\d{1,2}$/;

/** A path segment that looks like a region name: unprefixed paths never start with one. */
export function looksLikeRegionName(segment: string): boolean {
  return REGION_NAME_RE.test(segment);
}

let table: ReadonlyMap<string, RegionInfo> | undefined;

function regions(): ReadonlyMap<string, RegionInfo> {
  table ??= new Map(
    common.Region.values()
      .filter((r) => r.regionCode !== undefined)
      .map((r) => [r.regionId, { name: r.regionId, key: r.regionCode ?? "", realm: r.realm.realmId }]),
  );
  return table;
}

/** The region by name, or a 400 naming it (`where` says which input held it). */
export function regionInfo(name: unknown, where = "region"): RegionInfo {
  if (name === undefined || name === null || name === "") {
    throw invalidParameter(`${where} is required: a region name such as us-phoenix-1.`);
  }
  const found = typeof name === "string" ? regions().get(name) : undefined;
  if (!found) {
    throw invalidParameter(
      `${where}: unknown region ${JSON.stringify(name)}; use a region name oci-common knows, e.g. us-phoenix-1.`,
    );
  }
  return found;
}

/** A new OCID made in the named region: `ocid1.<type>.<realm>.<key>.<unique>`. */
export function ocidIn(region: string, type: string): string {
  const info = regionInfo(region);
  return newOcid(type, info.key, info.realm);
}

/** A fixed, readable OCID in the named region (defaults such as an image or a subnet). */
export function fixedOcidIn(region: string, type: string, unique: string): string {
  const info = regionInfo(region);
  return `ocid1.${type}.${info.realm}.${info.key}.${unique}`;
}

/** The availability domain name instances and pools get by default in the named region. */
export function availabilityDomainIn(region: string): string {
  // Ashburn and Phoenix kept their short legacy AD names; newer regions use the full region name.
  if (region === "us-ashburn-1") return "Uocm:US-ASHBURN-AD-1";
  if (region === "us-phoenix-1") return "Uocm:PHX-AD-1";
  return `Uocm:${region.toUpperCase()}-AD-1`;
}

/**
 * The OCI SDK's region table (oci-common Region.values(): region name, key and realm), the one place
 * a region name or key is looked up. Never the metadata service: an unknown name costs no call.
 */
import { Region } from "oci-common";

/** The region a name (us-ashburn-1) or key (iad) means, within `realm` (oc1…) when one is given. */
export function regionByKeyOrName(value: string, realm?: string): Region | undefined {
  return Region.values().find(
    (r) =>
      (realm === undefined || r.realm.realmId === realm) && (r.regionId === value || r.regionCode === value),
  );
}

/** The region with this name (us-ashburn-1), or undefined when the SDK does not know it. */
export function regionByName(name: string): Region | undefined {
  return Region.values().find((r) => r.regionId === name);
}

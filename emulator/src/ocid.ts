import { randomBytes } from "node:crypto";

// ocid1.<type>.<realm>.[region][.future].<unique>
const OCID_RE = /^ocid1\.[a-z0-9]+\.[a-z0-9]+\.[a-z0-9-]*(\.[a-z0-9-]*)?\.[A-Za-z0-9_-]{1,255}$/;

export function isOcid(value: string, type?: string): boolean {
  if (value.length > 255 || !OCID_RE.test(value)) return false;
  return type === undefined || value.split(".")[1] === type;
}

/** A new OCID; regional types carry the region key (`iad`), global ones (tenancy, user) none. */
export function newOcid(type: string, region = "iad", realm = "oc1"): string {
  const regionPart = type === "tenancy" || type === "compartment" || type === "user" ? "" : region;
  return `ocid1.${type}.${realm}.${regionPart}.${randomBytes(30).toString("hex").slice(0, 60)}`;
}

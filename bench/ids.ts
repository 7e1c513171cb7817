import { randomBytes } from "node:crypto";

/** OCIDs in the real syntax, unique per run, so every scenario owns its own compartment. */
export function benchOcid(type: "instance" | "compartment", regionKey = "iad"): string {
  const unique = randomBytes(30).toString("hex");
  return type === "compartment"
    ? `ocid1.compartment.oc1..${unique}`
    : `ocid1.instance.oc1.${regionKey}.${unique}`;
}

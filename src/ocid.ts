/**
 * OCID syntax: ocid1.<resource type>.<realm>.[region][.future use].<unique id>
 * (https://docs.oracle.com/iaas/Content/General/Concepts/identifiers.htm). Lowercase only.
 */
export type OcidCheck = { ok: true; resourceType: string } | { ok: false; problem: string };

const MAX_OCID_LENGTH = 255;
const SEGMENT = /^[a-z0-9-]*$/;
const TYPE = /^[a-z][a-z0-9]*$/;
const UNIQUE = /^[a-z0-9]+$/;

export function checkOcid(value: string): OcidCheck {
  if (value.length === 0) return { ok: false, problem: "is an empty string" };
  if (value.length > MAX_OCID_LENGTH) {
    return {
      ok: false,
      problem: `is ${value.length} characters long; an OCID has at most ${MAX_OCID_LENGTH}`,
    };
  }
  if (value !== value.trim()) return { ok: false, problem: "has leading or trailing whitespace" };
  if (value.toLowerCase() !== value)
    return { ok: false, problem: "contains uppercase letters; OCIDs are lowercase" };
  const parts = value.split(".");
  if (parts[0] !== "ocid1") return { ok: false, problem: 'does not start with "ocid1."' };
  if (parts.length < 5 || parts.length > 6) {
    return {
      ok: false,
      problem: "is not of the form ocid1.<resource-type>.<realm>.[region].<unique-id>",
    };
  }
  const [, type = "", realm = ""] = parts;
  const unique = parts[parts.length - 1] ?? "";
  const middle = parts.slice(3, parts.length - 1);
  if (
    !TYPE.test(type) ||
    !TYPE.test(realm) ||
    !UNIQUE.test(unique) ||
    !middle.every((p) => SEGMENT.test(p))
  ) {
    return {
      ok: false,
      problem:
        "is not of the form ocid1.<resource-type>.<realm>.[region].<unique-id> (lowercase letters, digits)",
    };
  }
  return { ok: true, resourceType: type };
}

/**
 * UpdateInstance (`PUT /20160918/instances/{id}`), limited to what people change by hand here:
 * displayName, freeformTags and definedTags. As in OCI, a tag map given replaces the whole map, and
 * an `if-match` etag that is not the instance's current one is answered 412 NoEtagMatch (nothing is
 * written). Other non-null UpdateInstanceDetails fields are refused, so a test never believes the
 * emulator applied something it ignored.
 */
import { invalidParameter } from "./errors.js";
import { parseJsonObject } from "./http-util.js";
import type { InstanceJson } from "./model.js";

export type InstanceUpdate = Partial<Pick<InstanceJson, "displayName" | "freeformTags" | "definedTags">>;

const TAG_KEY_MAX = 100;
const TAG_VALUE_MAX = 256;
const TAGS_MAX = 64;

function freeformTags(v: unknown): Record<string, string> {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalidParameter("freeformTags must be an object.");
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > TAGS_MAX) throw invalidParameter(`freeformTags may hold at most ${TAGS_MAX} tags.`);
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > TAG_KEY_MAX || /[\s.]/.test(key)) {
      throw invalidParameter(
        `freeformTags key ${JSON.stringify(key.slice(0, 120))} must be 1-${TAG_KEY_MAX} characters without spaces or periods.`,
      );
    }
    if (typeof value !== "string" || value.length > TAG_VALUE_MAX) {
      throw invalidParameter(`freeformTags.${key} must be a string of at most ${TAG_VALUE_MAX} characters.`);
    }
  }
  return v as Record<string, string>;
}

function definedTags(v: unknown): Record<string, Record<string, unknown>> {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalidParameter("definedTags must be an object.");
  for (const [ns, keys] of Object.entries(v as Record<string, unknown>)) {
    if (keys === null || typeof keys !== "object" || Array.isArray(keys)) {
      throw invalidParameter(`definedTags.${ns.slice(0, 100)} must be an object of key -> value.`);
    }
  }
  return v as Record<string, Record<string, unknown>>;
}

/** UpdateInstanceDetails -> the fields to set; a 400 naming the field when it is not acceptable. */
export function parseInstanceUpdate(body: Buffer): InstanceUpdate {
  const details = parseJsonObject(body, "UpdateInstanceDetails");
  const update: InstanceUpdate = {};
  for (const [field, value] of Object.entries(details)) {
    if (value === null || value === undefined) continue;
    switch (field) {
      case "displayName":
        if (typeof value !== "string" || value.length === 0 || value.length > 255) {
          throw invalidParameter("displayName must be a string of 1-255 characters.");
        }
        update.displayName = value;
        break;
      case "freeformTags":
        update.freeformTags = freeformTags(value);
        break;
      case "definedTags":
        update.definedTags = definedTags(value);
        break;
      default:
        throw invalidParameter(
          `The emulator's UpdateInstance supports displayName, freeformTags and definedTags only; got ${JSON.stringify(field.slice(0, 60))}.`,
        );
    }
  }
  return update;
}

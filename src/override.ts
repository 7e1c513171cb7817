/**
 * Overrides a person puts on the instance itself (a tag), and what they mean for one power action.
 * Pure: it reads the tags the function already fetched (no API call), the config and an injected
 * `now`, and returns a decision with a reason. A value that is not exactly one of the accepted forms
 * never lets the action through silently: it is `invalid` (no power action, code InvalidOverride).
 *
 * Look-alike keys: a freeform tag whose key is not the override key but normalises to it
 * (case, spaces, `-`/`_`/`.`, Unicode compatibility forms, zero-width and control characters,
 * Cyrillic/Greek letters that look Latin) is treated as a misspelt override: `invalid`, never
 * ignored and never acted on. The exact key, when present, wins over look-alikes.
 */
import { PowerError } from "./errors.js";

export const DEFAULT_OVERRIDE_TAG_KEY = "power-override";
export const DEFAULT_OVERRIDE_MAX_DAYS = 31;
export const INVALID_OVERRIDE = "InvalidOverride" as const;
/** OCI caps a tag value at 256 characters; anything longer cannot be ours. */
const MAX_VALUE_LENGTH = 256;
const DAY_MS = 86_400_000;
const TIME_FORM = "<RFC 3339 time with offset or Z, e.g. 2026-12-01T22:00:00Z>";

export type OverrideAction = "start" | "stop";

export interface OverrideConfig {
  tagKey: string;
  /** From OVERRIDE_DEFINED_TAG (`namespace.key`); undefined: freeform tag only. */
  definedTag: { namespace: string; key: string } | undefined;
  maxDays: number;
}

export type BilledWhenStopped = "stop" | "skip";
export interface BillingConfig {
  billedWhenStopped: BilledWhenStopped;
}

/** The parts of an instance the override lives in (InstanceView satisfies it). */
export interface TaggedInstance {
  freeformTags: Record<string, string>;
  definedTags: Record<string, Record<string, unknown>>;
}

export type ParsedOverride =
  | { kind: "skip" }
  | { kind: "keep-running-until" | "keep-stopped-until"; until: number }
  | { kind: "malformed"; why: string };

export type OverrideDecision =
  | { kind: "none"; reason: string }
  | { kind: "skip"; reason: string }
  | { kind: "invalid"; code: typeof INVALID_OVERRIDE; message: string; reason: string }
  | { kind: "expired"; until: string; reason: string }
  | { kind: "ignored"; reason: string };

type Source = Record<string, string | undefined>;

function bad(key: string, message: string): PowerError {
  return new PowerError("InvalidConfiguration", `configuration ${key} ${message}`);
}

/** OCI tag keys and namespaces: 1-100 characters, no spaces, no periods, nothing invisible. */
const TAG_NAME = /^[^\s.\p{C}]{1,100}$/u;

/** OVERRIDE_TAG_KEY, OVERRIDE_DEFINED_TAG, OVERRIDE_MAX_DAYS; a bad value names its key. */
export function readOverrideConfig(source: Source): OverrideConfig {
  const tagKey = source.OVERRIDE_TAG_KEY?.trim() || DEFAULT_OVERRIDE_TAG_KEY;
  if (!TAG_NAME.test(tagKey)) {
    throw bad(
      "OVERRIDE_TAG_KEY",
      `must be a freeform tag key (1-100 characters, no spaces or periods), got ${quote(tagKey, 40)}`,
    );
  }
  let definedTag: OverrideConfig["definedTag"];
  const rawDefined = source.OVERRIDE_DEFINED_TAG?.trim();
  if (rawDefined) {
    const [namespace, key, ...rest] = rawDefined.split(".");
    if (rest.length > 0 || !namespace || !key || !TAG_NAME.test(namespace) || !TAG_NAME.test(key)) {
      throw bad(
        "OVERRIDE_DEFINED_TAG",
        `must be a defined tag as namespace.key (each 1-100 characters, no spaces), got ${quote(rawDefined, 60)}`,
      );
    }
    definedTag = { namespace, key };
  }
  const rawDays = source.OVERRIDE_MAX_DAYS?.trim();
  let maxDays = DEFAULT_OVERRIDE_MAX_DAYS;
  if (rawDays) {
    maxDays = Number(rawDays);
    if (!/^\d{1,3}$/.test(rawDays) || maxDays < 1 || maxDays > 366) {
      throw bad(
        "OVERRIDE_MAX_DAYS",
        `must be a whole number of days from 1 to 366, got ${quote(rawDays, 20)}`,
      );
    }
  }
  return { tagKey, definedTag, maxDays };
}

/** BILLED_WHEN_STOPPED: `stop` (default: stop and flag) or `skip` (leave billed-while-stopped shapes running). */
export function readBillingConfig(source: Source): BillingConfig {
  const raw = (source.BILLED_WHEN_STOPPED ?? "").trim().toLowerCase() || "stop";
  if (raw !== "stop" && raw !== "skip") {
    throw bad("BILLED_WHEN_STOPPED", `must be stop or skip, got ${quote(raw, 20)}`);
  }
  return { billedWhenStopped: raw };
}

/** A value as it may appear in a message or log: cut short, invisible characters escaped, quoted. */
export function quote(value: string, max = 64): string {
  const chars = Array.from(value);
  const shown = chars
    .slice(0, max)
    .map((c) => (/[\p{C}\p{Zl}\p{Zp}\\"]/u.test(c) ? escapeChar(c) : c))
    .join("");
  return `"${shown}"${chars.length > max ? `… (${chars.length} characters)` : ""}`;
}

function escapeChar(c: string): string {
  if (c === "\\" || c === '"') return `\\${c}`;
  return `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** An RFC 3339 date-time with an offset or Z, checked field by field; undefined if it is not one. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  const n = (v: string | undefined) => Number(v ?? "0");
  if (n(mo) < 1 || n(mo) > 12 || n(d) < 1 || n(h) > 23 || n(mi) > 59 || n(s) > 59) return undefined;
  const local = Date.UTC(n(y), n(mo) - 1, n(d), n(h), n(mi), n(s), Math.floor(n(`0.${frac ?? "0"}`) * 1000));
  // Date.UTC rolls 31 February over into March: refuse days the month does not have.
  if (new Date(local).getUTCDate() !== n(d)) return undefined;
  if (z) return local;
  if (n(oh) > 23 || n(om) > 59) return undefined;
  const offset = (n(oh) * 60 + n(om)) * 60_000;
  return sign === "+" ? local - offset : local + offset;
}

/** Parses a tag value: trimmed, keyword case-insensitive, optional spaces around `=`. Never throws. */
export function parseOverride(value: string): ParsedOverride {
  if (value.length > MAX_VALUE_LENGTH)
    return { kind: "malformed", why: `longer than ${MAX_VALUE_LENGTH} characters` };
  const trimmed = value.trim();
  if (trimmed.toLowerCase() === "skip") return { kind: "skip" };
  const m = /^(keep-running-until|keep-stopped-until)[ \t]*=[ \t]*(\S+)$/i.exec(trimmed);
  if (!m?.[1] || !m[2]) return { kind: "malformed", why: "not one of the accepted forms" };
  const kind = m[1].toLowerCase() as "keep-running-until" | "keep-stopped-until";
  const until = parseRfc3339(m[2]);
  if (until === undefined)
    return { kind: "malformed", why: `${quote(m[2], 40)} is not an RFC 3339 time with an offset or Z` };
  return { kind, until };
}

const CONFUSABLES: Record<string, string> = {
  а: "a",
  в: "b",
  е: "e",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  і: "i",
  ј: "j",
  ѕ: "s",
  ԁ: "d",
  ԛ: "q",
  ԝ: "w",
  ɡ: "g",
  ı: "i",
  α: "a",
  ε: "e",
  ι: "i",
  κ: "k",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
};

/** The skeleton two keys are compared by to tell a look-alike: see the file comment. */
export function keySkeleton(key: string): string {
  return Array.from(key.normalize("NFKC").toLowerCase())
    .filter((c) => !/[\s\p{C}\p{P}\p{Z}]/u.test(c))
    .map((c) => CONFUSABLES[c] ?? c)
    .join("");
}

type Found =
  | { kind: "absent" }
  | { kind: "value"; label: string; value: string }
  | { kind: "problem"; label: string; message: string };

function definedValue(instance: TaggedInstance, tag: NonNullable<OverrideConfig["definedTag"]>): Found {
  const label = `${tag.namespace}.${tag.key}`;
  const lower = (s: string) => s.toLowerCase();
  // OCI defined-tag namespaces and keys are case-insensitive.
  const ns = Object.entries(instance.definedTags ?? {}).find(([k]) => lower(k) === lower(tag.namespace))?.[1];
  if (!ns || typeof ns !== "object") return { kind: "absent" };
  const entry = Object.entries(ns).find(([k]) => lower(k) === lower(tag.key));
  if (!entry) return { kind: "absent" };
  if (typeof entry[1] !== "string") {
    return {
      kind: "problem",
      label,
      message: `defined tag ${label} must hold a string, it holds ${typeof entry[1]}`,
    };
  }
  return { kind: "value", label, value: entry[1] };
}

function freeformValue(instance: TaggedInstance, tagKey: string): Found {
  const tags = instance.freeformTags ?? {};
  if (Object.hasOwn(tags, tagKey)) {
    const value: unknown = tags[tagKey];
    if (typeof value !== "string")
      return { kind: "problem", label: tagKey, message: `tag ${tagKey} must hold a string` };
    return { kind: "value", label: tagKey, value };
  }
  const skeleton = keySkeleton(tagKey);
  const lookAlike = Object.keys(tags).find((k) => keySkeleton(k) === skeleton);
  if (lookAlike === undefined) return { kind: "absent" };
  return {
    kind: "problem",
    label: tagKey,
    message: `tag key ${quote(lookAlike, 40)} looks like the override key "${tagKey}" but is not it; rename it to ${tagKey} or remove it`,
  };
}

/** Where the override is read from; both a freeform and a defined value must agree. */
export function findOverride(instance: TaggedInstance, config: OverrideConfig): Found {
  const freeform = freeformValue(instance, config.tagKey);
  if (!config.definedTag) return freeform;
  const defined = definedValue(instance, config.definedTag);
  if (freeform.kind === "problem") return freeform;
  if (defined.kind !== "value" || freeform.kind === "absent")
    return defined.kind === "absent" ? freeform : defined;
  if (
    freeform.kind === "value" &&
    freeform.value.trim().toLowerCase() !== defined.value.trim().toLowerCase()
  ) {
    return {
      kind: "problem",
      label: freeform.label,
      message: `tag ${freeform.label}=${quote(freeform.value, 60)} and defined tag ${defined.label}=${quote(defined.value, 60)} disagree; keep one`,
    };
  }
  return defined;
}

const ACCEPTED = `accepted: skip, keep-running-until=${TIME_FORM}, keep-stopped-until=${TIME_FORM}`;

function invalid(message: string, ignore: boolean): OverrideDecision {
  if (ignore) return { kind: "ignored", reason: `override ignored (ignore_overrides): ${message}` };
  return { kind: "invalid", code: INVALID_OVERRIDE, message, reason: "invalid override; no power action" };
}

const iso = (t: number) => new Date(t).toISOString().replace(/\.000Z$/, "Z");

/**
 * What the override means for `action` at `now`. `skip` stops both functions; keep-running-until
 * concerns stop-compute, keep-stopped-until start-compute; an until in the past has expired; an until
 * more than maxDays ahead is invalid. With ignore_overrides an override that would have held the
 * action (or a malformed one) is reported as ignored and the action goes ahead.
 */
export function decideOverride(
  instance: TaggedInstance,
  action: OverrideAction,
  now: number,
  config: OverrideConfig,
  ignoreOverrides = false,
): OverrideDecision {
  const found = findOverride(instance, config);
  if (found.kind === "absent") return { kind: "none", reason: "no override" };
  if (found.kind === "problem") return invalid(`${found.message}; ${ACCEPTED}`, ignoreOverrides);
  const parsed = parseOverride(found.value);
  const shown = `${found.label}=${quote(found.value.trim(), 80)}`;
  if (parsed.kind === "malformed") {
    return invalid(`${shown} is not a valid override (${parsed.why}); ${ACCEPTED}`, ignoreOverrides);
  }
  if (parsed.kind === "skip") {
    if (ignoreOverrides)
      return { kind: "ignored", reason: `override ${found.label}=skip ignored (ignore_overrides)` };
    return { kind: "skip", reason: `skipped: ${found.label}=skip` };
  }
  const until = iso(parsed.until);
  if (parsed.until - now > config.maxDays * DAY_MS) {
    return invalid(
      `${shown} is more than ${config.maxDays} days ahead (OVERRIDE_MAX_DAYS); ${ACCEPTED}`,
      ignoreOverrides,
    );
  }
  const concerns = parsed.kind === "keep-running-until" ? "stop" : "start";
  if (action !== concerns)
    return { kind: "none", reason: `${parsed.kind} ${until} does not concern ${action}` };
  if (now >= parsed.until) {
    return {
      kind: "expired",
      until,
      reason: `override expired at ${until}; ${action === "stop" ? "stopped" : "started"}`,
    };
  }
  if (ignoreOverrides)
    return { kind: "ignored", reason: `override ${parsed.kind} ${until} ignored (ignore_overrides)` };
  return { kind: "skip", reason: `skipped: ${parsed.kind} ${until}` };
}

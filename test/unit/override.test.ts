import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PowerError } from "../../src/errors.js";
import {
  decideOverride,
  keySkeleton,
  type OverrideConfig,
  type OverrideDecision,
  parseOverride,
  parseRfc3339,
  quote,
  readBillingConfig,
  readOverrideConfig,
  type TaggedInstance,
} from "../../src/override.js";

const NOW = Date.parse("2026-12-01T18:00:00Z");
const CONFIG: OverrideConfig = readOverrideConfig({});
const tags = (freeformTags: Record<string, string>, definedTags: TaggedInstance["definedTags"] = {}) => ({
  freeformTags,
  definedTags,
});
const decide = (value: string, action: "start" | "stop", ignore = false, config = CONFIG) =>
  decideOverride(tags({ "power-override": value, Schedule: "office" }), action, NOW, config, ignore);

describe("readOverrideConfig / readBillingConfig", () => {
  it("defaults: freeform tag power-override, no defined tag, 31 days; billed shapes are stopped", () => {
    expect(readOverrideConfig({})).toEqual({ tagKey: "power-override", definedTag: undefined, maxDays: 31 });
    expect(readBillingConfig({})).toEqual({ billedWhenStopped: "stop" });
  });

  it("reads every key, trimmed", () => {
    expect(
      readOverrideConfig({
        OVERRIDE_TAG_KEY: " hold ",
        OVERRIDE_DEFINED_TAG: " Ops.PowerOverride ",
        OVERRIDE_MAX_DAYS: "7",
      }),
    ).toEqual({ tagKey: "hold", definedTag: { namespace: "Ops", key: "PowerOverride" }, maxDays: 7 });
    expect(readBillingConfig({ BILLED_WHEN_STOPPED: " SKIP " })).toEqual({ billedWhenStopped: "skip" });
  });

  it.each([
    [{ OVERRIDE_TAG_KEY: "power override" }, /OVERRIDE_TAG_KEY must be a freeform tag key/],
    [{ OVERRIDE_TAG_KEY: "a.b" }, /OVERRIDE_TAG_KEY/],
    [{ OVERRIDE_TAG_KEY: "x".repeat(101) }, /OVERRIDE_TAG_KEY/],
    [{ OVERRIDE_DEFINED_TAG: "nonamespace" }, /OVERRIDE_DEFINED_TAG must be a defined tag as namespace.key/],
    [{ OVERRIDE_DEFINED_TAG: "a.b.c" }, /OVERRIDE_DEFINED_TAG/],
    [{ OVERRIDE_DEFINED_TAG: ".key" }, /OVERRIDE_DEFINED_TAG/],
    [{ OVERRIDE_MAX_DAYS: "0" }, /OVERRIDE_MAX_DAYS must be a whole number of days from 1 to 366, got "0"/],
    [{ OVERRIDE_MAX_DAYS: "2.5" }, /OVERRIDE_MAX_DAYS/],
    [{ OVERRIDE_MAX_DAYS: "367" }, /OVERRIDE_MAX_DAYS/],
    [{ OVERRIDE_MAX_DAYS: "-1" }, /OVERRIDE_MAX_DAYS/],
    [{ BILLED_WHEN_STOPPED: "flag" }, /BILLED_WHEN_STOPPED must be stop or skip, got "flag"/],
  ])("refuses %o naming the key", (source, pattern) => {
    const read = () =>
      "BILLED_WHEN_STOPPED" in source ? readBillingConfig(source) : readOverrideConfig(source);
    expect(read).toThrow(PowerError);
    expect(read).toThrow(pattern);
    try {
      read();
    } catch (e) {
      expect((e as PowerError).code).toBe("InvalidConfiguration");
    }
  });
});

describe("parseRfc3339", () => {
  it.each([
    ["2026-12-01T22:00:00Z", "2026-12-01T22:00:00.000Z"],
    ["2026-12-01t22:00:00z", "2026-12-01T22:00:00.000Z"],
    ["2026-12-01T23:00:00+01:00", "2026-12-01T22:00:00.000Z"],
    ["2026-12-01T17:30:00-04:30", "2026-12-01T22:00:00.000Z"],
    ["2026-12-01T22:00:00.5Z", "2026-12-01T22:00:00.500Z"],
    ["2028-02-29T00:00:00Z", "2028-02-29T00:00:00.000Z"],
  ])("%s is %s", (text, expected) => {
    expect(new Date(parseRfc3339(text) ?? Number.NaN).toISOString()).toBe(expected);
  });

  it.each([
    "2026-12-01T22:00:00", // no offset: local time of what?
    "2026-12-01 22:00:00Z",
    "2026-12-01T22:00Z",
    "2026-02-30T10:00:00Z",
    "2027-02-29T10:00:00Z",
    "2026-13-01T10:00:00Z",
    "2026-12-01T24:00:00Z",
    "2026-12-01T22:60:00Z",
    "2026-12-01T22:00:60Z",
    "2026-12-01T22:00:00+24:00",
    "2026-12-01T22:00:00+0100",
    "１２026-12-01T22:00:00Z",
    "tomorrow",
  ])("refuses %s", (text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });
});

describe("parseOverride", () => {
  it.each([
    ["skip", { kind: "skip" }],
    ["  SKIP\t", { kind: "skip" }],
    [
      "Keep-Running-Until=2026-12-01T22:00:00Z",
      { kind: "keep-running-until", until: Date.parse("2026-12-01T22:00:00Z") },
    ],
    [
      " keep-stopped-until = 2026-12-02T08:00:00+01:00 ",
      { kind: "keep-stopped-until", until: Date.parse("2026-12-02T07:00:00Z") },
    ],
  ])("%j", (value, expected) => {
    expect(parseOverride(value)).toEqual(expected);
  });

  it.each([
    ["", /accepted forms/],
    ["skip please", /accepted forms/],
    ["skip=true", /accepted forms/],
    ["keep-running-until", /accepted forms/],
    ["keep-running-until=", /accepted forms/],
    ["keep-running-until=22:00", /"22:00" is not an RFC 3339 time/],
    ["keep-running-until=2026-12-01T22:00:00", /not an RFC 3339 time/],
    ["keep-running-until 2026-12-01T22:00:00Z", /accepted forms/],
    ["keep-running-until=2026-12-01T22:00:00Z extra", /accepted forms/],
    ["ѕkip", /accepted forms/],
    ["x".repeat(257), /longer than 256/],
  ])("%j is malformed", (value, why) => {
    const parsed = parseOverride(value);
    expect(parsed.kind).toBe("malformed");
    if (parsed.kind === "malformed") expect(parsed.why).toMatch(why);
  });
});

describe("decideOverride", () => {
  it("no tag: none", () => {
    expect(decideOverride(tags({ Schedule: "x" }), "stop", NOW, CONFIG)).toEqual({
      kind: "none",
      reason: "no override",
    });
  });

  it("skip holds both functions, with the issue's reason", () => {
    for (const action of ["start", "stop"] as const) {
      expect(decide("skip", action)).toEqual({ kind: "skip", reason: "skipped: power-override=skip" });
    }
  });

  it("keep-running-until holds stop-compute until then, not start-compute", () => {
    expect(decide("keep-running-until=2026-12-01T23:00:00+01:00", "stop")).toEqual({
      kind: "skip",
      reason: "skipped: keep-running-until 2026-12-01T22:00:00Z",
    });
    expect(decide("keep-running-until=2026-12-01T22:00:00Z", "start")).toMatchObject({ kind: "none" });
  });

  it("keep-stopped-until holds start-compute until then, not stop-compute", () => {
    expect(decide("keep-stopped-until=2026-12-02T08:00:00Z", "start")).toEqual({
      kind: "skip",
      reason: "skipped: keep-stopped-until 2026-12-02T08:00:00Z",
    });
    expect(decide("keep-stopped-until=2026-12-02T08:00:00Z", "stop")).toMatchObject({ kind: "none" });
  });

  it("after the time the override has expired, and the reason says so", () => {
    expect(decide("keep-running-until=2026-12-01T17:00:00Z", "stop")).toEqual({
      kind: "expired",
      until: "2026-12-01T17:00:00Z",
      reason: "override expired at 2026-12-01T17:00:00Z; stopped",
    });
    expect(decide("keep-stopped-until=2026-12-01T18:00:00Z", "start")).toEqual({
      kind: "expired",
      until: "2026-12-01T18:00:00Z",
      reason: "override expired at 2026-12-01T18:00:00Z; started",
    });
  });

  it("an until more than OVERRIDE_MAX_DAYS ahead is invalid for either action", () => {
    const far = "keep-running-until=2027-01-02T18:00:01Z";
    for (const action of ["start", "stop"] as const) {
      const d = decide(far, action);
      expect(d).toMatchObject({ kind: "invalid", code: "InvalidOverride" });
      if (d.kind === "invalid") {
        expect(d.message).toContain('power-override="keep-running-until=2027-01-02T18:00:01Z"');
        expect(d.message).toContain("more than 31 days ahead (OVERRIDE_MAX_DAYS)");
      }
    }
    expect(decide("keep-running-until=2027-01-01T18:00:00Z", "stop")).toMatchObject({ kind: "skip" });
    const week = readOverrideConfig({ OVERRIDE_MAX_DAYS: "7" });
    expect(decide("keep-running-until=2026-12-09T18:00:00Z", "stop", false, week)).toMatchObject({
      kind: "invalid",
    });
  });

  it("anything else is invalid: the message quotes the value and lists the accepted forms", () => {
    const d = decide("  keep-running till 10pm ", "stop");
    expect(d).toEqual({
      kind: "invalid",
      code: "InvalidOverride",
      reason: "invalid override; no power action",
      message:
        'power-override="keep-running till 10pm" is not a valid override (not one of the accepted forms); accepted: skip, keep-running-until=<RFC 3339 time with offset or Z, e.g. 2026-12-01T22:00:00Z>, keep-stopped-until=<RFC 3339 time with offset or Z, e.g. 2026-12-01T22:00:00Z>',
    });
  });

  it("ignore_overrides: a holding or malformed override is ignored, and the reason says so", () => {
    expect(decide("skip", "stop", true)).toEqual({
      kind: "ignored",
      reason: "override power-override=skip ignored (ignore_overrides)",
    });
    expect(decide("keep-running-until=2026-12-01T22:00:00Z", "stop", true)).toEqual({
      kind: "ignored",
      reason: "override keep-running-until 2026-12-01T22:00:00Z ignored (ignore_overrides)",
    });
    expect(decide("nonsense", "start", true)).toMatchObject({
      kind: "ignored",
      reason: expect.stringMatching(
        /^override ignored \(ignore_overrides\): power-override="nonsense" is not a valid/,
      ),
    });
    expect(decide("keep-running-until=2026-12-01T17:00:00Z", "stop", true)).toMatchObject({
      kind: "expired",
    });
  });

  it("hostile values are escaped and cut in the message, never acted on", () => {
    const nasty = `skip\u0000\u202e\u200b"\\${"A".repeat(5000)}`;
    const d = decide(nasty, "stop");
    expect(d.kind).toBe("invalid");
    if (d.kind === "invalid") {
      expect(d.message).toContain('\\u{0}\\u{202e}\\u{200b}\\"\\\\');
      expect(d.message).toContain("(5009 characters)");
      expect(d.message.length).toBeLessThan(600);
      expect(d.message).not.toMatch(/[\p{Cc}\u202e\u200b]/u);
    }
  });

  it.each([
    ["Power-Override"],
    ["POWER_OVERRIDE"],
    ["power-override "],
    [" power override"],
    ["power\u200b-override"],
    ["ｐｏｗｅｒ－ｏｖｅｒｒｉｄｅ"], // fullwidth
    ["pоwer-оverride"], // Cyrillic о
    ["power–override"], // en dash
  ])("look-alike key %j is an invalid override, never ignored", (key) => {
    const d = decideOverride(tags({ [key]: "skip" }), "stop", NOW, CONFIG);
    expect(d).toMatchObject({ kind: "invalid", code: "InvalidOverride" });
    if (d.kind === "invalid")
      expect(d.message).toMatch(/looks like the override key "power-override" but is not it/);
  });

  it("the exact key wins over a look-alike; unrelated keys are not look-alikes", () => {
    expect(
      decideOverride(tags({ "power-override": "skip", "Power-Override": "junk" }), "stop", NOW, CONFIG),
    ).toMatchObject({ kind: "skip" });
    expect(
      decideOverride(tags({ "power-overrides": "skip", power: "x" }), "stop", NOW, CONFIG),
    ).toMatchObject({
      kind: "none",
    });
  });

  describe("defined tag (OVERRIDE_DEFINED_TAG)", () => {
    const config = readOverrideConfig({ OVERRIDE_DEFINED_TAG: "Ops.PowerOverride" });
    it("is read case-insensitively, as OCI does", () => {
      expect(decideOverride(tags({}, { ops: { poweroverride: "SKIP" } }), "start", NOW, config)).toEqual({
        kind: "skip",
        reason: "skipped: Ops.PowerOverride=skip",
      });
    });
    it("agreeing freeform and defined values are fine; disagreeing ones are invalid", () => {
      expect(
        decideOverride(
          tags({ "power-override": "skip" }, { Ops: { PowerOverride: " skip" } }),
          "stop",
          NOW,
          config,
        ),
      ).toMatchObject({ kind: "skip" });
      const d = decideOverride(
        tags(
          { "power-override": "skip" },
          { Ops: { PowerOverride: "keep-running-until=2026-12-01T22:00:00Z" } },
        ),
        "stop",
        NOW,
        config,
      );
      expect(d).toMatchObject({ kind: "invalid", message: expect.stringMatching(/disagree; keep one/) });
    });
    it("a non-string defined value is invalid; the freeform tag alone still works", () => {
      expect(decideOverride(tags({}, { Ops: { PowerOverride: 42 } }), "stop", NOW, config)).toMatchObject({
        kind: "invalid",
        message: expect.stringMatching(/must hold a string, it holds number/),
      });
      expect(decideOverride(tags({ "power-override": "skip" }), "stop", NOW, config)).toMatchObject({
        kind: "skip",
      });
    });
  });
});

describe("properties", () => {
  const anyTags = fc.dictionary(fc.string({ maxLength: 30 }), fc.string({ maxLength: 400 }), { maxKeys: 6 });
  const action = fc.constantFrom("start" as const, "stop" as const);

  it("never throws, and every decision has a reason; invalid always carries the code and the accepted forms", () => {
    fc.assert(
      fc.property(anyTags, fc.string({ maxLength: 400 }), action, fc.boolean(), (t, v, a, ignore) => {
        for (const instance of [tags(t), tags({ ...t, "power-override": v })]) {
          const d: OverrideDecision = decideOverride(instance, a, NOW, CONFIG, ignore);
          expect(d.reason.length).toBeGreaterThan(0);
          if (d.kind === "invalid") {
            expect(d.code).toBe("InvalidOverride");
            expect(d.message).toContain("accepted: skip, keep-running-until=");
            expect(d.message).not.toMatch(/\p{Cc}/u);
          }
          if (ignore) expect(["invalid", "skip"]).not.toContain(d.kind);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("a random value lets the action through only if it parses to an override that does not hold it", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), action, (v, a) => {
        const d = decide(v, a);
        if (d.kind === "none" || d.kind === "expired") {
          const parsed = parseOverride(v);
          expect(parsed.kind === "keep-running-until" || parsed.kind === "keep-stopped-until").toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("keep-*-until: skip before the time, expired at and after it, for the action it concerns", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -40 * 86_400, max: 31 * 86_400 }),
        fc.constantFrom("keep-running-until", "keep-stopped-until"),
        fc.constantFrom("Z", "+05:30", "-08:00", "+00:00"),
        (offsetSeconds, kind, zone) => {
          const until = NOW + offsetSeconds * 1000;
          const text = rfc3339In(until, zone);
          const a = kind === "keep-running-until" ? "stop" : "start";
          const d = decide(`${kind}=${text}`, a);
          expect(d.kind).toBe(offsetSeconds > 0 ? "skip" : "expired");
          expect(decide(`${kind}=${text}`, a === "stop" ? "start" : "stop").kind).toBe("none");
        },
      ),
    );
  });

  it("keySkeleton is idempotent and quote never returns raw control characters", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50, unit: "grapheme-composite" }), (s) => {
        expect(keySkeleton(keySkeleton(s))).toBe(keySkeleton(s));
        expect(quote(s)).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
      }),
    );
  });
});

function rfc3339In(t: number, zone: string): string {
  if (zone === "Z") return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
  const sign = zone[0] === "-" ? -1 : 1;
  const [h, m] = zone.slice(1).split(":").map(Number);
  const offsetMs = sign * ((h ?? 0) * 60 + (m ?? 0)) * 60_000;
  return new Date(t + offsetMs).toISOString().replace(/\.\d{3}Z$/, zone);
}

import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors.js";
import { MAX_BODY_BYTES, parseRequest } from "../../src/request.js";

const ID = "ocid1.instance.oc1.iad.aaaa1";
const ID2 = "ocid1.instance.oc1.iad.aaaa2";
const COMP = "ocid1.compartment.oc1..dev";

function invalid(input: unknown, fn: "START" | "STOP" = "START"): string {
  try {
    parseRequest(input, fn);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    const e = error as InvalidParameterError;
    expect(e.code).toBe("InvalidParameter");
    expect(e.toJSON()).toMatchObject({ code: "InvalidParameter", status: 400 });
    return e.message;
  }
  throw new Error("expected InvalidParameter");
}

describe("parseRequest: valid bodies", () => {
  it.each(["START", "STOP"] as const)("%s accepts ignore_overrides: true", (fn) => {
    expect(parseRequest(JSON.stringify({ instance_id: ID, ignore_overrides: true }), fn)).toMatchObject({
      ignoreOverrides: true,
    });
  });

  it("accepts a single instance with defaults", () => {
    expect(parseRequest(JSON.stringify({ instance_id: ID }), "START")).toEqual({
      action: "START",
      targets: { kind: "ids", ids: [ID] },
      wait: true,
      timeoutSeconds: undefined,
      dryRun: false,
      ignoreOverrides: false,
      results: "all",
    });
  });

  it("accepts the schedule's name and keeps it out of a request that has none", () => {
    const named = parseRequest(JSON.stringify({ instance_id: ID, schedule: "stop-office-hours" }), "STOP");
    expect(named.schedule).toBe("stop-office-hours");
    expect(
      parseRequest(JSON.stringify({ instance_id: ID, schedule: "s".repeat(255) }), "START").schedule,
    ).toHaveLength(255);
    expect("schedule" in parseRequest(JSON.stringify({ instance_id: ID }), "START")).toBe(false);
  });

  it("accepts instance_ids, wait, timeout and dry run", () => {
    const r = parseRequest(
      JSON.stringify({ instance_ids: [ID, ID2], wait: false, timeout_seconds: 120, dry_run: true }),
      "START",
    );
    expect(r).toMatchObject({
      targets: { kind: "ids", ids: [ID, ID2] },
      wait: false,
      timeoutSeconds: 120,
      dryRun: true,
    });
  });

  it("accepts a compartment (or the tenancy) with freeform and defined tags", () => {
    const r = parseRequest(
      JSON.stringify({
        compartment_id: COMP,
        freeform_tags: { Schedule: "office-hours" },
        defined_tags: { Operations: { env: "dev" } },
      }),
      "STOP",
    );
    expect(r.targets).toEqual({
      kind: "compartment",
      compartmentId: COMP,
      freeformTags: { Schedule: "office-hours" },
      definedTags: { Operations: { env: "dev" } },
      kinds: ["instance"],
    });
    expect(
      parseRequest(JSON.stringify({ compartment_id: "ocid1.tenancy.oc1..emulatortenancy" }), "START").targets,
    ).toMatchObject({ kind: "compartment" });
  });

  it.each([
    [undefined, "SOFTSTOP"],
    ["SOFTSTOP", "SOFTSTOP"],
    ["STOP", "STOP"],
  ])("stop-compute action %s → %s", (action, expected) => {
    const body = action === undefined ? { instance_id: ID } : { instance_id: ID, action };
    expect(parseRequest(JSON.stringify(body), "STOP").action).toBe(expected);
  });

  it("accepts an already-parsed object (json input mode)", () => {
    expect(parseRequest({ instance_id: ID }, "START").targets).toEqual({ kind: "ids", ids: [ID] });
  });

  it("accepts exactly 1000 ids", () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `ocid1.instance.oc1.iad.a${i}`);
    expect(parseRequest(JSON.stringify({ instance_ids: ids }), "START").targets).toMatchObject({
      kind: "ids",
    });
  });
});

describe("parseRequest: regions and results", () => {
  it("takes a compartment's regions, or all of them", () => {
    const listed = parseRequest(
      { compartment_id: COMP, regions: ["us-phoenix-1", "eu-frankfurt-1"] },
      "START",
    );
    expect(listed.targets).toMatchObject({
      kind: "compartment",
      regions: ["us-phoenix-1", "eu-frankfurt-1"],
    });
    const all = parseRequest({ compartment_id: COMP, regions: "all" }, "STOP");
    expect(all.targets).toMatchObject({ kind: "compartment", regions: "all" });
    expect(parseRequest({ compartment_id: COMP }, "START").targets).not.toHaveProperty("regions");
  });

  it("takes results: failures with any target form", () => {
    expect(parseRequest({ instance_ids: [ID], results: "failures" }, "START").results).toBe("failures");
    expect(parseRequest({ compartment_id: COMP, results: "all" }, "STOP").results).toBe("all");
  });
});

describe("parseRequest: invalid bodies name the field and what is expected", () => {
  it.each<[string, unknown, RegExp]>([
    ["empty string", "", /body is empty/],
    ["whitespace", "  \n", /body is empty/],
    ["undefined", undefined, /body is empty/],
    ["not JSON", "{instance_id: x", /not valid JSON/],
    ["raw text", "start my vm please", /not valid JSON/],
    ["array", "[1,2]", /must be a JSON object, got an array of 2/],
    ["null", "null", /must be a JSON object, got null/],
    ["number", "42", /must be a JSON object, got the number 42/],
    ["string JSON", '"ocid1.instance.oc1.iad.aaaa1"', /must be a JSON object, got the string/],
    ["no target", "{}", /exactly one of instance_id, instance_ids, target_id, target_ids, compartment_id/],
    [
      "two targets",
      JSON.stringify({ instance_id: ID, compartment_id: COMP }),
      /instance_id and compartment_id/,
    ],
    [
      "camelCase key",
      JSON.stringify({ instanceId: ID }),
      /unknown key "instanceId"; did you mean "instance_id"\?/,
    ],
    ["ids alias", JSON.stringify({ ids: [ID] }), /did you mean "instance_ids"/],
    ["typo", JSON.stringify({ instance_idd: ID }), /did you mean "instance_id"/],
    ["dryRun", JSON.stringify({ instance_id: ID, dryRun: true }), /did you mean "dry_run"/],
    ["timeout", JSON.stringify({ instance_id: ID, timeout: 5 }), /did you mean "timeout_seconds"/],
    [
      "ignoreOverrides",
      JSON.stringify({ instance_id: ID, ignoreOverrides: true }),
      /did you mean "ignore_overrides"/,
    ],
    [
      "ignore_override",
      JSON.stringify({ instance_id: ID, ignore_override: true }),
      /did you mean "ignore_overrides"/,
    ],
    [
      "ignore_overrides not a boolean",
      JSON.stringify({ instance_id: ID, ignore_overrides: "yes" }),
      /ignore_overrides must be true or false, got the string "yes"/,
    ],
    [
      "unrelated key",
      JSON.stringify({ instance_id: ID, zzzzqqq: 1 }),
      /unknown key "zzzzqqq"; accepted keys/,
    ],
    ["__proto__ key", `{"instance_id":"${ID}","__proto__":{"admin":true}}`, /unknown key "__proto__"/],
    ["constructor key", JSON.stringify({ instance_id: ID, constructor: "x" }), /unknown key "constructor"/],
    [
      "action on start",
      JSON.stringify({ instance_id: ID, action: "START" }),
      /only accepted by stop-compute/,
    ],
    [
      "instance_id number",
      JSON.stringify({ instance_id: 5 }),
      /instance_id must be an instance OCID string.*number 5/,
    ],
    [
      "instance_id null",
      JSON.stringify({ instance_id: null }),
      /instance_id must be an instance OCID string.*null/,
    ],
    ["instance_id list", JSON.stringify({ instance_id: [ID] }), /use "instance_ids" for a list/],
    [
      "malformed ocid",
      JSON.stringify({ instance_id: "i-12345" }),
      /instance_id does not start with "ocid1\."/,
    ],
    ["uppercase ocid", JSON.stringify({ instance_id: ID.toUpperCase() }), /uppercase/],
    [
      "ocid of a volume",
      JSON.stringify({ instance_id: "ocid1.volume.oc1.iad.aaaa" }),
      /OCID of a volume, not of an instance/,
    ],
    ["short ocid", JSON.stringify({ instance_id: "ocid1.instance.oc1" }), /not of the form/],
    ["whitespace ocid", JSON.stringify({ instance_id: ` ${ID}` }), /whitespace/],
    ["ids not array", JSON.stringify({ instance_ids: ID }), /instance_ids must be an array.*"instance_id"/],
    ["ids empty", JSON.stringify({ instance_ids: [] }), /instance_ids is empty/],
    [
      "ids duplicate",
      JSON.stringify({ instance_ids: [ID, ID2, ID] }),
      /instance_ids\[2\] repeats instance_ids\[0\]/,
    ],
    [
      "ids wrong element",
      JSON.stringify({ instance_ids: [ID, 7] }),
      /instance_ids\[1\] must be an instance OCID/,
    ],
    [
      "ids of compartments",
      JSON.stringify({ instance_ids: [COMP] }),
      /instance_ids\[0\] is the OCID of a compartment/,
    ],
    [
      "compartment is instance",
      JSON.stringify({ compartment_id: ID }),
      /compartment_id is the OCID of an instance; expected a compartment/,
    ],
    [
      "compartment not string",
      JSON.stringify({ compartment_id: {} }),
      /compartment_id must be a compartment OCID string, got an object/,
    ],
    [
      "tags without compartment",
      JSON.stringify({ instance_id: ID, freeform_tags: { a: "b" } }),
      /freeform_tags only applies with compartment_id/,
    ],
    [
      "freeform tags not object",
      JSON.stringify({ compartment_id: COMP, freeform_tags: ["a"] }),
      /freeform_tags must be an object/,
    ],
    [
      "freeform tag number",
      JSON.stringify({ compartment_id: COMP, freeform_tags: { a: 1 } }),
      /freeform_tags\["a"\] must be a string/,
    ],
    [
      "defined tags flat",
      JSON.stringify({ compartment_id: COMP, defined_tags: { ns: "x" } }),
      /defined_tags\["ns"\] must be an object/,
    ],
    [
      "wait as string",
      JSON.stringify({ instance_id: ID, wait: "true" }),
      /wait must be true or false, got the string "true"/,
    ],
    ["dry_run number", JSON.stringify({ instance_id: ID, dry_run: 1 }), /dry_run must be true or false/],
    [
      "timeout zero",
      JSON.stringify({ instance_id: ID, timeout_seconds: 0 }),
      /timeout_seconds must be a whole number of seconds from 1 to 3600/,
    ],
    [
      "timeout float",
      JSON.stringify({ instance_id: ID, timeout_seconds: 1.5 }),
      /timeout_seconds must be a whole number/,
    ],
    ["timeout huge", JSON.stringify({ instance_id: ID, timeout_seconds: 99999 }), /from 1 to 3600/],
    ["timeout string", JSON.stringify({ instance_id: ID, timeout_seconds: "60" }), /got the string "60"/],
    [
      "schedule number",
      JSON.stringify({ instance_id: ID, schedule: 7 }),
      /schedule must be the schedule's name/,
    ],
    ["schedule empty", JSON.stringify({ instance_id: ID, schedule: " " }), /1 to 255 characters/],
    ["schedule too long", JSON.stringify({ instance_id: ID, schedule: "s".repeat(256) }), /1 to 255/],
    ["schedule control", JSON.stringify({ instance_id: ID, schedule: "a\nb" }), /without control characters/],
    [
      "regions with ids",
      JSON.stringify({ instance_id: ID, regions: ["us-ashburn-1"] }),
      /regions only applies with compartment_id \(an OCID carries its own region/,
    ],
    [
      "regions empty",
      JSON.stringify({ compartment_id: COMP, regions: [] }),
      /regions must be a list of region names.*1 to 64/,
    ],
    [
      "regions string",
      JSON.stringify({ compartment_id: COMP, regions: "us-ashburn-1" }),
      /regions must be .*or "all"/,
    ],
    [
      "regions key",
      JSON.stringify({ compartment_id: COMP, regions: ["iad"] }),
      /regions\[0\] is the string "iad", not a region name/,
    ],
    [
      "regions repeat",
      JSON.stringify({ compartment_id: COMP, regions: ["us-ashburn-1", "us-ashburn-1"] }),
      /regions\[1\] repeats "us-ashburn-1"/,
    ],
    [
      "results other",
      JSON.stringify({ instance_id: ID, results: "errors" }),
      /results must be "all" .* or "failures"/,
    ],
  ])("%s", (_name, input, expected) => {
    expect(invalid(input)).toMatch(expected);
  });

  it.each<[unknown, RegExp]>([
    ["softstop", /in capitals.*did you mean "SOFTSTOP"/],
    ["RESET", /action must be "SOFTSTOP" \(graceful, the default\) or "STOP"/],
    [1, /got the number 1/],
  ])("stop-compute action %j", (action, expected) => {
    expect(invalid(JSON.stringify({ instance_id: ID, action }), "STOP")).toMatch(expected);
  });

  it("rejects more than 1000 ids before looking at them", () => {
    const ids = Array.from({ length: 1001 }, () => 5);
    expect(invalid(JSON.stringify({ instance_ids: ids }))).toMatch(/1001 entries; at most 1000/);
  });

  it("rejects an oversized body without parsing it", () => {
    const big = `{"instance_id":"${"a".repeat(MAX_BODY_BYTES)}"}`;
    expect(invalid(big)).toMatch(/at most 262144 bytes/);
  });

  it("handles deep nesting and long strings with a bounded message", () => {
    const deep = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    expect(invalid(deep)).toMatch(/must be a JSON object/);
    const message = invalid(JSON.stringify({ instance_id: "x".repeat(100_000) }));
    expect(message.length).toBeLessThan(400);
  });

  it("reports several problems at once", () => {
    const message = invalid(JSON.stringify({ instanceId: ID, wait: "no" }));
    expect(message).toMatch(/instanceId/);
    expect(message).toMatch(/wait must be true or false/);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors.js";
import { parseRequest } from "../../src/request.js";

/** Either a request or an InvalidParameter with a bounded message: never another failure. */
function parsesOrRefuses(input: unknown, fn: "START" | "STOP"): void {
  try {
    const r = parseRequest(input, fn);
    expect(["START", "STOP", "SOFTSTOP"]).toContain(r.action);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidParameterError);
    expect((error as InvalidParameterError).message.length).toBeLessThan(2000);
  }
}

const ocidish = fc
  .tuple(
    fc.constantFrom("ocid1", "ocid2", "OCID1", ""),
    fc.constantFrom("instance", "compartment", "tenancy", "volume", "Instance", ""),
    fc.constantFrom("oc1", "oc2", ""),
    fc.constantFrom("iad", "", "us-ashburn-1"),
    fc.stringMatching(/^[a-z0-9]{0,12}$/),
  )
  .map((parts) => parts.join("."));

const keys = fc.constantFrom(
  "instance_id",
  "instance_ids",
  "compartment_id",
  "freeform_tags",
  "defined_tags",
  "wait",
  "timeout_seconds",
  "dry_run",
  "action",
  "__proto__",
  "constructor",
  "instanceId",
);

describe("parseRequest properties", () => {
  it("any JSON text: a request or InvalidParameter", () => {
    fc.assert(
      fc.property(fc.json(), fc.constantFrom("START" as const, "STOP" as const), (text, fn) =>
        parsesOrRefuses(text, fn),
      ),
      { numRuns: 500 },
    );
  });

  it("any string (not necessarily JSON), any unicode: InvalidParameter or a request", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => parsesOrRefuses(text, "START")),
      { numRuns: 500 },
    );
  });

  it("objects built from the real keys with odd values: a request or InvalidParameter", () => {
    const value = fc.oneof(
      ocidish,
      fc.array(ocidish, { maxLength: 5 }),
      fc.anything(),
      fc.dictionary(fc.string(), fc.string()),
    );
    fc.assert(
      fc.property(
        fc.dictionary(keys, value, { maxKeys: 5 }),
        fc.constantFrom("START" as const, "STOP" as const),
        (body, fn) => parsesOrRefuses(JSON.stringify(body), fn),
      ),
      { numRuns: 1000 },
    );
  });

  it("valid id lists round-trip in order", () => {
    const id = fc.stringMatching(/^[a-z0-9]{1,20}$/).map((u) => `ocid1.instance.oc1.iad.${u}`);
    fc.assert(
      fc.property(fc.uniqueArray(id, { minLength: 1, maxLength: 50 }), fc.boolean(), (ids, wait) => {
        const r = parseRequest(JSON.stringify({ instance_ids: ids, wait }), "STOP");
        expect(r).toMatchObject({ action: "SOFTSTOP", wait, targets: { kind: "ids", ids } });
      }),
      { numRuns: 200 },
    );
  });
});

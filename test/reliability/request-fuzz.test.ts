/**
 * Property-based fuzzing of the request parser, in-process: for arbitrary JSON values, near-valid
 * objects and mutated valid bodies, parseRequest either returns a request that honours the contract
 * or throws InvalidParameterError whose message names the field; never anything else.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidParameterError } from "../../src/errors.js";
import { checkOcid } from "../../src/ocid.js";
import { type FunctionKind, type PowerRequest, parseRequest } from "../../src/request.js";
import { suiteSeed } from "./harness.js";

const SEED = suiteSeed();
const RUNS = 400;
const KNOWN = [
  "instance_id",
  "instance_ids",
  "compartment_id",
  "freeform_tags",
  "defined_tags",
  "wait",
  "timeout_seconds",
  "dry_run",
  "action",
  "body",
];

type Verdict = { ok: true; request: PowerRequest } | { ok: false; problem: string | undefined };

/** Runs the parser; returns what it did, or a description of how it broke the contract. */
function judge(input: unknown, fn: FunctionKind): Verdict {
  let request: PowerRequest;
  try {
    request = parseRequest(input, fn);
  } catch (error) {
    if (!(error instanceof InvalidParameterError)) {
      return {
        ok: false,
        problem: `threw ${error instanceof Error ? error.name : typeof error}: ${String(error)}`,
      };
    }
    const body = error.toJSON();
    if (body.code !== "InvalidParameter" || body.status !== 400) return { ok: false, problem: "wrong code" };
    if (typeof error.message !== "string" || error.message.length === 0 || error.message.length > 2000)
      return { ok: false, problem: `message of ${error.message.length} chars` };
    const field = error.field ?? "";
    const top = field.split(/[.[]/)[0] ?? "";
    // The message names the field: a known key by name, the body as "body", an unknown key as such.
    const named = KNOWN.includes(top)
      ? error.message.includes(top)
      : /unknown key|"action" is only accepted/.test(error.message);
    return {
      ok: false,
      problem: named ? undefined : `message does not name ${JSON.stringify(field)}: ${error.message}`,
    };
  }
  return { ok: true, request };
}

/** A returned request honours the contract. */
function contractProblem(r: PowerRequest, fn: FunctionKind): string | undefined {
  const instance = (id: string) => {
    const c = checkOcid(id);
    return c.ok && c.resourceType === "instance";
  };
  if (fn === "START" ? r.action !== "START" : r.action !== "SOFTSTOP" && r.action !== "STOP")
    return `action ${r.action}`;
  if (typeof r.wait !== "boolean" || typeof r.dryRun !== "boolean") return "wait/dry_run not boolean";
  if (
    r.timeoutSeconds !== undefined &&
    !(Number.isInteger(r.timeoutSeconds) && r.timeoutSeconds >= 1 && r.timeoutSeconds <= 3600)
  )
    return `timeout ${r.timeoutSeconds}`;
  if (r.targets.kind === "ids") {
    const ids = r.targets.ids;
    if (ids.length < 1 || ids.length > 1000) return `${ids.length} ids`;
    if (new Set(ids).size !== ids.length) return "duplicate ids";
    if (!ids.every(instance)) return "an id that is not an instance OCID";
  } else {
    const c = checkOcid(r.targets.compartmentId);
    if (!c.ok || (c.resourceType !== "compartment" && c.resourceType !== "tenancy")) return "bad compartment";
    for (const v of Object.values(r.targets.freeformTags)) if (typeof v !== "string") return "tag value";
    for (const ns of Object.values(r.targets.definedTags))
      for (const v of Object.values(ns)) if (typeof v !== "string") return "defined tag value";
  }
  if (
    Object.getPrototypeOf({}) !== Object.prototype ||
    ({} as Record<string, unknown>).instance_id !== undefined
  )
    return "Object.prototype was polluted";
  return undefined;
}

/** How many inputs were accepted, so a property cannot pass by refusing everything. */
let accepted = 0;

function holds(input: unknown, fn: FunctionKind): boolean {
  const v = judge(input, fn);
  if (!v.ok) {
    if (v.problem) throw new Error(v.problem);
    return true;
  }
  const problem = contractProblem(v.request, fn);
  if (problem) throw new Error(`accepted with ${problem}`);
  accepted++;
  return true;
}

const hex = fc.string({ unit: fc.constantFrom(..."abcdef0123456789"), minLength: 1, maxLength: 24 });
const instanceOcid = hex.map((h) => `ocid1.instance.oc1.iad.a${h}`);
const compartmentOcid = fc.oneof(
  hex.map((h) => `ocid1.compartment.oc1..a${h}`),
  hex.map((h) => `ocid1.tenancy.oc1..a${h}`),
);
const otherOcid = fc
  .tuple(fc.constantFrom("vcn", "volume", "fnfunc", "bucket", "image", "subnet"), hex)
  .map(([t, h]) => `ocid1.${t}.oc1.iad.a${h}`);
const junk = fc.oneof(
  fc.anything(),
  fc.jsonValue(),
  fc.string({ unit: "binary" }),
  fc.constantFrom(null, 0, -1, Number.POSITIVE_INFINITY, Number.NaN, "", "true", [], {}, "__proto__"),
);
const maybe = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: junk });

/** null four times out of five. */
const rarely = <T>(value: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: value });
/** Objects that look like requests: one target form (sometimes two), options good or bad. */
const target = fc.oneof(
  fc.record({ instance_id: maybe(fc.oneof(instanceOcid, otherOcid)) }),
  fc.record({ instance_ids: maybe(fc.array(maybe(instanceOcid), { minLength: 0, maxLength: 8 })) }),
  fc.record(
    {
      compartment_id: maybe(fc.oneof(compartmentOcid, instanceOcid)),
      freeform_tags: maybe(
        fc.dictionary(fc.string({ maxLength: 8 }), maybe(fc.string({ maxLength: 8 })), { maxKeys: 4 }),
      ),
      defined_tags: maybe(
        fc.dictionary(
          fc.string({ maxLength: 6 }),
          maybe(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }))),
          { maxKeys: 3 },
        ),
      ),
    },
    { requiredKeys: ["compartment_id"] },
  ),
);
const options = fc.record(
  {
    wait: maybe(fc.boolean()),
    dry_run: maybe(fc.boolean()),
    timeout_seconds: maybe(fc.integer({ min: -5, max: 4000 })),
    action: maybe(fc.constantFrom("SOFTSTOP", "STOP", "stop", "RESET")),
  },
  { requiredKeys: [] },
);
const nearValid = fc
  .tuple(target, options, rarely(target))
  .map(([t, o, second]) => ({ ...t, ...o, ...(second ?? {}) }));
const strangerKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "instanceId", "InstanceIds", "dryRun", "toString"),
  fc.string({ maxLength: 12 }),
);
/** A near-valid object, sometimes with a stranger key (an own property, even "__proto__"). */
const nearValidWithStranger = fc
  .tuple(nearValid, rarely(fc.tuple(strangerKey, junk)))
  .map(([record, extra]) => {
    const body: Record<string, unknown> = { ...record };
    if (extra) {
      Object.defineProperty(body, extra[0], {
        value: extra[1],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return body;
  });

describe(`request parser fuzzing (fast-check seed ${SEED})`, () => {
  const params = { seed: SEED, numRuns: RUNS };

  it.each(["START", "STOP"] as const)("%s: arbitrary values, as objects and as JSON text", (fn) => {
    fc.assert(
      fc.property(junk, (value) => {
        holds(value, fn);
        let text: string | undefined;
        try {
          text = JSON.stringify(value);
        } catch {
          text = undefined; // BigInt and the like: not a body anyone can send
        }
        return text === undefined || holds(text, fn);
      }),
      params,
    );
  });

  it.each(["START", "STOP"] as const)("%s: near-valid objects (some accepted, most refused)", (fn) => {
    accepted = 0;
    fc.assert(
      fc.property(nearValidWithStranger, (body) => holds(body, fn) && holds(JSON.stringify(body), fn)),
      params,
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it.each(["START", "STOP"] as const)("%s: valid bodies with one character changed", (fn) => {
    const valid = fc.oneof(
      instanceOcid.map((id) => JSON.stringify({ instance_id: id, wait: true })),
      fc
        .array(instanceOcid, { minLength: 1, maxLength: 5 })
        .map((ids) => JSON.stringify({ instance_ids: ids, dry_run: false })),
      compartmentOcid.map((c) =>
        JSON.stringify({ compartment_id: c, freeform_tags: { env: "dev" }, timeout_seconds: 60 }),
      ),
    );
    fc.assert(
      fc.property(
        valid,
        fc.nat(),
        fc.string({ unit: "binary", minLength: 0, maxLength: 2 }),
        fc.constantFrom("insert", "replace", "delete"),
        (text, at, piece, how) => {
          const i = at % (text.length + 1);
          const mutated =
            how === "insert"
              ? text.slice(0, i) + piece + text.slice(i)
              : how === "replace"
                ? text.slice(0, i) + piece + text.slice(i + 1)
                : text.slice(0, i) + text.slice(i + 1);
          return holds(mutated, fn);
        },
      ),
      params,
    );
  });

  it("a valid request parses (the properties above are not vacuous)", () => {
    expect(judge(JSON.stringify({ instance_ids: ["ocid1.instance.oc1.iad.aaaa1"] }), "START")).toMatchObject({
      ok: true,
    });
  });
});

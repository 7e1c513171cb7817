import { describe, expect, it } from "vitest";
import { batchResponse, viewOf, withRegionErrors } from "../../src/response.js";
import type { InstanceResult, Outcome } from "../../src/target-result.js";

function result(n: number, outcome: Outcome): InstanceResult {
  const id = `ocid1.instance.oc1.iad.r${n}`;
  return { target_id: id, kind: "instance", instance_id: id, outcome, reason: outcome, elapsed_ms: 1 };
}

describe('"results": "failures"', () => {
  const results = [
    result(1, "changed"),
    result(2, "failed"),
    result(3, "unchanged"),
    result(4, "in_progress"),
  ];

  it("keeps failed entries and, when the request waited, unfinished ones; the summary counts all", () => {
    const built = viewOf(batchResponse("START", false, results), "failures", true);
    expect(built.body.results?.map((r) => r.target_id)).toEqual([
      results[1]?.target_id,
      results[3]?.target_id,
    ]);
    expect(built.body.results_omitted).toBe(2);
    expect(built.body.summary).toMatchObject({
      requested: 4,
      changed: 1,
      failed: 1,
      unchanged: 1,
      in_progress: 1,
    });
    expect(built.gatewayStatus).toBe(502);
  });

  it("without wait, in_progress is the expected answer and is left out", () => {
    const built = viewOf(batchResponse("START", false, results), "failures", false);
    expect(built.body.results?.map((r) => r.outcome)).toEqual(["failed"]);
    expect(built.body.results_omitted).toBe(3);
  });

  it('"all" (the default) changes nothing', () => {
    const plain = batchResponse("START", false, results);
    expect(viewOf(plain, "all", true)).toBe(plain);
    expect(viewOf(plain, undefined, true).body).not.toHaveProperty("results_omitted");
  });
});

describe("region errors", () => {
  it("make an otherwise good answer not ok (502), named in the message and listed", () => {
    const good = batchResponse("START", false, [result(1, "changed")]);
    expect(good.body.ok).toBe(true);
    const error = { code: "NotAuthorizedOrNotFound" as const, message: "404", status: 404 };
    const built = withRegionErrors(good, [{ region: "us-phoenix-1", error }]);
    expect(built.gatewayStatus).toBe(502);
    expect(built.body).toMatchObject({
      ok: false,
      message: expect.stringContaining(
        "could not select in 1 region: us-phoenix-1 (NotAuthorizedOrNotFound)",
      ),
      region_errors: [{ region: "us-phoenix-1", error }],
    });
  });

  it("none: the answer is unchanged", () => {
    const good = batchResponse("START", false, [result(1, "changed")]);
    expect(withRegionErrors(good, [])).toBe(good);
  });
});

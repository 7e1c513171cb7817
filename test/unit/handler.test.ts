import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PowerError } from "../../src/errors.js";
import { computeDeadline, DEFAULT_BUDGET_MS, makeHandler } from "../../src/handler.js";
import { resetLearnedDurations } from "../../src/watch.js";
import { COMP_A, COMP_B, FAST, instanceId } from "../helpers/batch-fixtures.js";
import { FakeCompute } from "../helpers/fake-compute.js";
import { fnContext } from "../helpers/fn-context.js";

const ID = instanceId(0);

function setup(states: string[] = ["STOPPED"], compartmentId = COMP_A) {
  const fake = new FakeCompute(
    states.map((s, i) => ({ id: instanceId(i), compartmentId, lifecycleState: s })),
  );
  const lines: string[] = [];
  let factoryCalls = 0;
  const handler = (kind: "START" | "STOP") =>
    makeHandler(kind, {
      createCompute: async () => {
        factoryCalls++;
        return fake;
      },
      tuning: FAST,
      logSink: (_stream, line) => lines.push(line),
    });
  return { fake, lines, handler, factoryCalls: () => factoryCalls };
}

beforeEach(() => resetLearnedDurations());

/** The answer and the (fake) time it came at. */
async function answeredAt<T>(answer: Promise<T>): Promise<{ body: T; at: number }> {
  const body = await answer;
  return { body, at: Date.now() };
}

describe("makeHandler", () => {
  it("answers a start with the documented response shape and gateway 200", async () => {
    const { handler, lines } = setup();
    const ctx = fnContext({ callId: "call-1" });
    const body = await handler("START")(JSON.stringify({ instance_id: ID }), ctx);
    expect(body).toEqual({
      action: "START",
      dry_run: false,
      ok: true,
      message: "START: 1 requested: 1 changed",
      summary: { requested: 1, changed: 1, unchanged: 0, skipped: 0, in_progress: 0, failed: 0, planned: 0 },
      results: [
        {
          target_id: ID,
          kind: "instance",
          instance_id: ID,
          display_name: expect.any(String),
          outcome: "changed",
          reason: "sent START",
          // An injected single port stands for the function's region (none configured here: "local").
          region: "local",
          state_before: "STOPPED",
          state_after: "RUNNING",
          elapsed_ms: expect.any(Number),
        },
      ],
    });
    expect(ctx.gatewayStatus).toBe(200);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of records) {
      expect(r).toMatchObject({ call_id: "call-1", level: expect.any(String), msg: expect.any(String) });
    }
    expect(records).toContainEqual(
      expect.objectContaining({ msg: "instance outcome", instance_id: ID, reason: "sent START" }),
    );
  });

  it("invalid input → 400 InvalidParameter without creating the OCI client", async () => {
    const { handler, factoryCalls } = setup();
    const ctx = fnContext();
    const body = await handler("START")(JSON.stringify({ instanceId: ID }), ctx);
    expect(body).toMatchObject({
      ok: false,
      error: { code: "InvalidParameter", message: expect.stringMatching(/instance_id/) },
    });
    expect(body.results).toBeUndefined();
    expect(ctx.gatewayStatus).toBe(400);
    expect(factoryCalls()).toBe(0);
  });

  it.each([[""], ["not json"], [{ not: "a string" }]])("non-JSON or odd input %j → 400", async (input) => {
    const { handler } = setup();
    const ctx = fnContext();
    const body = await handler("STOP")(input, ctx);
    expect(body).toMatchObject({ ok: false, error: { code: "InvalidParameter" } });
    expect(ctx.gatewayStatus).toBe(400);
  });

  it("some in progress → 202; something failed → 502 and ok false", async () => {
    const { handler, fake } = setup(["STOPPED", "TERMINATED"]);
    fake.setState(instanceId(0), "STOPPED");
    const ctx = fnContext();
    const body = await handler("START")(JSON.stringify({ instance_ids: [instanceId(0)], wait: false }), ctx);
    expect(body.summary?.in_progress).toBe(1);
    expect(ctx.gatewayStatus).toBe(202);
    const ctx2 = fnContext();
    const body2 = await handler("START")(JSON.stringify({ instance_ids: [instanceId(1)] }), ctx2);
    expect(body2).toMatchObject({ ok: false, summary: { failed: 1 } });
    expect(body2.message).toMatch(/InstanceTerminated/);
    expect(ctx2.gatewayStatus).toBe(502);
  });

  it("guardrail: a compartment outside ALLOWED_COMPARTMENT_IDS is refused with 403 before any call", async () => {
    const { handler, fake } = setup(["RUNNING"], COMP_B);
    const ctx = fnContext({ config: { ALLOWED_COMPARTMENT_IDS: `${COMP_A}, ocid1.tenancy.oc1..t` } });
    const body = await handler("STOP")(JSON.stringify({ compartment_id: COMP_B }), ctx);
    expect(body).toMatchObject({ ok: false, action: "SOFTSTOP", error: { code: "Forbidden", status: 403 } });
    expect(ctx.gatewayStatus).toBe(403);
    expect(fake.calls).toEqual([]);
  });

  it("a bad configuration value is named (502)", async () => {
    const { handler } = setup();
    const ctx = fnContext({ config: { POWER_MAX_CONCURRENCY: "lots" } });
    const body = await handler("START")(JSON.stringify({ instance_id: ID }), ctx);
    expect(body).toMatchObject({
      ok: false,
      error: { code: "InvalidConfiguration", message: expect.stringMatching(/POWER_MAX_CONCURRENCY/) },
    });
    expect(ctx.gatewayStatus).toBe(502);
  });

  it("an authentication failure is a structured 502, and setup is retried on the next call", async () => {
    let attempts = 0;
    const fake = new FakeCompute([{ id: ID, compartmentId: COMP_A, lifecycleState: "RUNNING" }]);
    const handler = makeHandler("START", {
      createCompute: async () => {
        attempts++;
        if (attempts === 1)
          throw new PowerError(
            "AuthenticationFailed",
            "resource principal: OCI_RESOURCE_PRINCIPAL_RPST is not set",
          );
        return fake;
      },
      tuning: FAST,
      logSink: () => {},
    });
    const ctx = fnContext();
    const body = await handler(JSON.stringify({ instance_id: ID }), ctx);
    expect(body).toMatchObject({
      ok: false,
      error: { code: "AuthenticationFailed", message: expect.stringMatching(/RPST/) },
    });
    expect(ctx.gatewayStatus).toBe(502);
    const body2 = await handler(JSON.stringify({ instance_id: ID }), fnContext());
    expect(body2).toMatchObject({ ok: true, summary: { unchanged: 1 } });
    expect(attempts).toBe(2);
  });

  it("never throws: an unexpected failure becomes InternalError", async () => {
    const handler = makeHandler("START", {
      createCompute: async () => {
        throw new TypeError("boom");
      },
      logSink: () => {},
    });
    const ctx = fnContext();
    const body = await handler(JSON.stringify({ instance_id: ID }), ctx);
    expect(body).toMatchObject({ ok: false, error: { code: "InternalError" } });
    expect(ctx.gatewayStatus).toBe(502);
  });

  it("reuses the OCI client across warm invocations", async () => {
    const { handler, factoryCalls } = setup(["RUNNING"]);
    const h = handler("START");
    await h(JSON.stringify({ instance_id: ID }), fnContext());
    await h(JSON.stringify({ instance_id: ID }), fnContext());
    expect(factoryCalls()).toBe(1);
  });

  describe("on fake time", () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("answers before Fn-Deadline with in_progress for what is still moving", async () => {
      const fake = new FakeCompute([{ id: ID, compartmentId: COMP_A, lifecycleState: "STOPPED" }], {
        durationsMs: { START: 60_000 },
      });
      const handler = makeHandler("START", {
        createCompute: async () => fake,
        tuning: FAST,
        logSink: () => {},
      });
      const deadline = new Date(Date.now() + 900);
      const answered = answeredAt(handler(JSON.stringify({ instance_id: ID }), fnContext({ deadline })));
      await vi.runAllTimersAsync();
      const { body, at } = await answered;
      expect(at).toBeLessThan(deadline.getTime());
      expect(body).toMatchObject({ ok: true, summary: { in_progress: 1 } });
    });

    it("a very short deadline and an OCI that does not answer: still answered before Fn-Deadline", async () => {
      const fake = new FakeCompute([{ id: ID, compartmentId: COMP_A, lifecycleState: "STOPPED" }], {
        latencyMs: 5000,
      });
      const handler = makeHandler("START", { createCompute: async () => fake, logSink: () => {} });
      const deadline = new Date(Date.now() + 600);
      const answered = answeredAt(handler(JSON.stringify({ instance_id: ID }), fnContext({ deadline })));
      await vi.runAllTimersAsync();
      const { body, at } = await answered;
      expect(at).toBeLessThan(deadline.getTime());
      expect(body).toMatchObject({ summary: { requested: 1 }, results: [{ instance_id: ID }] });
    });
  });

  it("logs no secrets", async () => {
    const { handler, lines } = setup();
    const secret = "-----BEGIN PRIVATE KEY-----abc";
    await handler("START")(
      JSON.stringify({ instance_id: ID }),
      fnContext({ config: { OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM: secret } }),
    );
    expect(lines.join("\n")).not.toContain("BEGIN PRIVATE KEY");
  });
});

describe("computeDeadline", () => {
  const now = 1_000_000;
  it.each<[string, Date | null, number | undefined, number]>([
    ["Fn-Deadline minus the margin", new Date(now + 30_000), undefined, now + 28_500],
    ["timeout_seconds when earlier", new Date(now + 30_000), 5, now + 5000],
    ["Fn-Deadline when timeout is later", new Date(now + 10_000), 60, now + 8500],
    ["a third of a short budget as margin", new Date(now + 3000), undefined, now + 2000],
    ["missing header → default budget", null, undefined, now + DEFAULT_BUDGET_MS - 1500],
    ["invalid date → default budget", new Date(Number.NaN), undefined, now + DEFAULT_BUDGET_MS - 1500],
    ["past deadline → now", new Date(now - 5000), undefined, now],
  ])("%s", (_name, deadline, timeout, expected) => {
    expect(computeDeadline(now, deadline, timeout)).toBe(expected);
  });
});

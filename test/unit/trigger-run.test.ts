import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../src/clock.js";
import { silentLogger } from "../../src/log.js";
import { MAX_INSTANCE_IDS, type PowerRequest, parseRequest } from "../../src/request.js";
import { batchResponse } from "../../src/response.js";
import { type RequestRun, runIncoming, type TriggerDeps } from "../../src/trigger-run.js";
import { classifyBody } from "../../src/triggers.js";

const id = (n: number) => `ocid1.instance.oc1.iad.${"a".repeat(50)}${String(n).padStart(6, "0")}`;

/** A fake run: every target changed, taking `ms` of (fake) time; records what it ran. */
function deps(overrides: Partial<TriggerDeps> = {}, ms = 0) {
  const ran: PowerRequest[] = [];
  const run = async (body: unknown): Promise<RequestRun> => {
    const request = parseRequest(body, "START");
    ran.push(request);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    const ids = request.targets.kind === "ids" ? request.targets.ids : ["x", "y", "z"];
    const results = ids.map((instance_id) => ({
      target_id: instance_id,
      kind: "instance" as const,
      instance_id,
      display_name: "",
      reason: "sent START",
      outcome: "changed" as const,
      elapsed_ms: 0,
    }));
    return { built: batchResponse(request.action, false, results), request };
  };
  const d: TriggerDeps = {
    kind: "START",
    defaultAction: "START",
    clock: systemClock,
    deadlineAt: Date.now() + 10_000,
    logger: silentLogger,
    run,
    ...overrides,
  };
  return { d, ran };
}

const msg = (body: unknown) => ({ content: JSON.stringify(body) });

describe("runIncoming: Connector Hub batches", () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it("answers each message in its place and sums the summaries; the shared schedule labels metrics", async () => {
    const { d } = deps();
    const body = [
      msg({ instance_ids: [id(1), id(2)], schedule: "s" }),
      { content: "nope" },
      msg({ instance_id: id(3), schedule: "s" }),
    ];
    const answer = await runIncoming(classifyBody(JSON.stringify(body), [], "START"), d);
    expect(answer).toMatchObject({ action: "START", schedule: "s", built: { gatewayStatus: 502 } });
    expect(answer.built.body).toMatchObject({
      ok: false,
      summary: { requested: 3, changed: 3, failed: 0 },
      trigger: { kind: "batch", messages: 3, failed_messages: 1 },
      message: "START: 3 message(s): 2 ok, 1 failed; 3 target(s) requested, 3 changed, 0 failed",
    });
    expect(answer.built.body.messages?.map((m) => [m.index, m.ok, m.error?.code])).toEqual([
      [0, true, undefined],
      [1, false, "InvalidParameter"],
      [2, true, undefined],
    ]);
  });

  it("reports a message's invalid request naming the message and field, and runs the rest", async () => {
    const { d, ran } = deps();
    const body = [msg({ instance_id: "bad" }), msg({ instance_id: id(1) })];
    const answer = await runIncoming(classifyBody(body, [], "START"), d);
    expect(answer.built.body.messages?.[0]?.error?.message).toMatch(/^body\[0\]: .*instance_id/);
    expect(ran).toHaveLength(1);
    expect(answer.schedule).toBeUndefined();
  });

  it("bounds the batch's targets: ids beyond the bound and compartments after it are not run", async () => {
    const { d, ran } = deps();
    const half = Array.from({ length: MAX_INSTANCE_IDS / 2 }, (_, i) => id(i));
    const body = [
      msg({ instance_ids: half }),
      msg({ instance_ids: half }),
      msg({ instance_id: id(9999) }),
      msg({ compartment_id: "ocid1.compartment.oc1..dev" }),
    ];
    const answer = await runIncoming(classifyBody(body, [], "START"), d);
    expect(ran).toHaveLength(2);
    const refused = answer.built.body.messages?.slice(2) ?? [];
    for (const m of refused) {
      expect(m.error).toMatchObject({ code: "InvalidParameter" });
      expect(m.error?.message).toMatch(new RegExp(`more than ${MAX_INSTANCE_IDS} targets in total`));
    }
    expect(answer.built.body.summary?.requested).toBe(MAX_INSTANCE_IDS);
  });

  it("shares the invocation's deadline: a message that would start after it is not run", async () => {
    const { d, ran } = deps({ deadlineAt: 1500 }, 1000);
    const body = [msg({ instance_id: id(1) }), msg({ instance_id: id(2) }), msg({ instance_id: id(3) })];
    const pending = runIncoming(classifyBody(body, [], "START"), d);
    await vi.advanceTimersByTimeAsync(3000);
    const answer = await pending;
    expect(ran).toHaveLength(2);
    expect(answer.built.body.messages?.map((m) => m.ok)).toEqual([true, true, false]);
    expect(answer.built.body.messages?.[2]?.error).toMatchObject({
      code: "DeadlineExceeded",
      message: expect.stringContaining("body[2] was not run"),
    });
  });

  it("is a 400 when every message is refused as invalid", async () => {
    const { d } = deps();
    const answer = await runIncoming(classifyBody([msg({ nope: 1 }), { content: "x" }], [], "START"), d);
    expect(answer.built.gatewayStatus).toBe(400);
    expect(answer.action).toBe("START");
  });
});

describe("runIncoming: events and direct requests", () => {
  it("runs the rule's request and says which rule mapped the event", async () => {
    const { d, ran } = deps();
    const event = { eventType: "com.example.thing", cloudEventsVersion: "0.1", data: {} };
    const rules = [
      {
        name: "r",
        eventTypes: ["com.example.thing"],
        match: {},
        fn: undefined,
        request: { instance_id: id(7) },
      },
    ];
    const answer = await runIncoming(classifyBody(event, rules, "START"), d);
    expect(ran[0]?.targets).toEqual({ kind: "ids", ids: [id(7)] });
    expect(answer.built.body.trigger).toEqual({ kind: "event", rule: "r", event_type: "com.example.thing" });
  });

  it("passes a direct request through untouched", async () => {
    const { d } = deps();
    const answer = await runIncoming(classifyBody({ instance_id: id(1), schedule: "x" }, [], "START"), d);
    expect(answer.schedule).toBe("x");
    expect(answer.built.body.trigger).toBeUndefined();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIT_AHEAD, type BatchDeps, type BatchOutcome, runBatch } from "../../src/batch.js";
import type { PowerAction } from "../../src/compute.js";
import { CallScheduler } from "../../src/pacing.js";
import type { PowerRequest, Targets } from "../../src/request.js";
import { resetLearnedDurations } from "../../src/watch.js";
import {
  COMP_A,
  COMP_B,
  config,
  FAST,
  instanceId,
  onFakeTime,
  powerRequest,
  quietLogger,
} from "../helpers/batch-fixtures.js";
import { FakeCompute, type FakeInstance } from "../helpers/fake-compute.js";

function deps(compute: FakeCompute, overrides: Partial<BatchDeps> = {}): BatchDeps {
  const now = Date.now();
  return {
    compute,
    config: config(),
    logger: quietLogger,
    deadlineAt: now + 5000,
    startedAt: now,
    tuning: FAST,
    ...overrides,
  };
}

function fleet(n: number, state: string, compartmentId = COMP_A, from = 0): FakeInstance[] {
  return Array.from({ length: n }, (_, i) => ({
    id: instanceId(from + i),
    compartmentId,
    lifecycleState: state,
  }));
}

/** No instance received two power actions with different retry tokens that started transitions. */
function expectOneTransitionEach(fake: FakeCompute, ids: string[]): void {
  for (const id of ids) expect(fake.transitions(id).length, id).toBeLessThanOrEqual(1);
}

// Fake timers drive the whole batch (its clock, the scheduler, the watcher and the fake's
// transitions): time jumps from one timer to the next, nothing sleeps.
beforeEach(() => {
  vi.useFakeTimers();
  resetLearnedDurations();
});
afterEach(() => {
  vi.useRealTimers();
});

function run(req: PowerRequest, d: BatchDeps): Promise<BatchOutcome> {
  return onFakeTime(runBatch(req, d));
}

/** Every result has this outcome (the failure message shows them all). */
function expectAll(out: BatchOutcome, outcome: string): void {
  expect(out.results.map((r) => r.outcome)).toEqual(out.results.map(() => outcome));
}

describe("runBatch: single instances", () => {
  it("starts a stopped instance and waits until RUNNING", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"));
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results).toEqual([
      expect.objectContaining({
        instance_id: instanceId(0),
        outcome: "changed",
        state_before: "STOPPED",
        state_after: "RUNNING",
      }),
    ]);
    expect(fake.state(instanceId(0))).toBe("RUNNING");
    expect(fake.count("InstanceAction")).toBe(1);
  });

  it.each<[PowerAction]>([["STOP"], ["SOFTSTOP"]])("%s stops a running instance", async (action) => {
    const fake = new FakeCompute(fleet(1, "RUNNING"));
    const out = await run(powerRequest([instanceId(0)], { action }), deps(fake));
    expect(out.results[0]).toMatchObject({ outcome: "changed", state_after: "STOPPED" });
    expect(fake.calls.find((c) => c.operation === "InstanceAction")?.action).toBe(action);
  });

  it("already in the target state → unchanged, no action", async () => {
    const fake = new FakeCompute(fleet(1, "RUNNING"));
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results[0]).toMatchObject({
      outcome: "unchanged",
      state_before: "RUNNING",
      state_after: "RUNNING",
    });
    expect(fake.count("InstanceAction")).toBe(0);
  });

  it("already moving toward the target → waits, sends nothing, unchanged", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"));
    fake.setState(instanceId(0), "STARTING", { to: "RUNNING", afterMs: 60 });
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results[0]).toMatchObject({
      outcome: "unchanged",
      state_before: "STARTING",
      state_after: "RUNNING",
    });
    expect(fake.count("InstanceAction")).toBe(0);
  });

  it("in the opposite transition → waits for it to settle, then acts", async () => {
    const fake = new FakeCompute(fleet(1, "RUNNING"));
    fake.setState(instanceId(0), "STOPPING", { to: "STOPPED", afterMs: 60 });
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results[0]).toMatchObject({
      outcome: "changed",
      state_before: "STOPPING",
      state_after: "RUNNING",
    });
    expect(fake.count("InstanceAction")).toBe(1);
  });

  it.each([["TERMINATED"], ["TERMINATING"]])("%s → failed InstanceTerminated", async (state) => {
    const fake = new FakeCompute(fleet(1, state));
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results[0]).toMatchObject({ outcome: "failed", error: { code: "InstanceTerminated" } });
    expect(fake.count("InstanceAction")).toBe(0);
  });

  it("a missing instance → failed NotAuthorizedOrNotFound with the opc-request-id", async () => {
    const fake = new FakeCompute([]);
    const out = await run(powerRequest([instanceId(9)]), deps(fake));
    expect(out.results[0]).toMatchObject({
      instance_id: instanceId(9),
      outcome: "failed",
      error: {
        code: "NotAuthorizedOrNotFound",
        status: 404,
        opc_request_id: expect.stringMatching(/^fake-/),
      },
    });
  });

  it("wait: false reports an accepted action as in_progress", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"), { durationsMs: { START: 1000 } });
    const out = await run(powerRequest([instanceId(0)], { wait: false }), deps(fake));
    expect(out.results[0]).toMatchObject({ outcome: "in_progress", state_after: "STARTING" });
  });

  it("dry run: planned for what would change, unchanged otherwise, no action", async () => {
    const fake = new FakeCompute([...fleet(1, "STOPPED"), ...fleet(1, "RUNNING", COMP_A, 1)]);
    fake.setState(instanceId(1), "RUNNING");
    const out = await run(powerRequest([instanceId(0), instanceId(1)], { dryRun: true }), deps(fake));
    expect(out.results.map((r) => r.outcome)).toEqual(["planned", "unchanged"]);
    expect(fake.count("InstanceAction")).toBe(0);
  });
});

describe("runBatch: faults", () => {
  it("429 is retried with the same retry token after retry-after", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"));
    fake.inject({ kind: "throttle", operation: "InstanceAction", times: 2, retryAfterMs: 20 });
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results[0]).toMatchObject({ outcome: "changed" });
    const actions = fake.calls.filter((c) => c.operation === "InstanceAction");
    expect(actions.map((c) => c.status)).toEqual([429, 429, 200]);
    expect(new Set(actions.map((c) => c.retryToken)).size).toBe(1);
  });

  it("5xx is retried with the same token", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"));
    fake.inject({ kind: "server", operation: "InstanceAction", times: 2 });
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results[0]).toMatchObject({ outcome: "changed" });
    const actions = fake.calls.filter((c) => c.operation === "InstanceAction");
    expect(new Set(actions.map((c) => c.retryToken)).size).toBe(1);
  });

  it("a connection dropped after processing is retried with the same token and replayed", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"));
    fake.inject({ kind: "drop-after", operation: "InstanceAction" });
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results[0]).toMatchObject({ outcome: "changed" });
    const actions = fake.calls.filter((c) => c.operation === "InstanceAction");
    expect(actions).toHaveLength(2);
    expect(actions[1]).toMatchObject({ replayed: true, retryToken: actions[0]?.retryToken });
    expectOneTransitionEach(fake, [instanceId(0)]);
  });

  it("retries running out after a lost answer: the state is checked before anything is reported", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"));
    fake.inject({ kind: "drop-after", operation: "InstanceAction" });
    fake.inject({ kind: "server", operation: "InstanceAction", times: 50 });
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results[0]).toMatchObject({ outcome: "changed", state_after: "RUNNING" });
    expect(fake.transitions(instanceId(0))).toHaveLength(1);
  });

  it("out of host capacity → failed OutOfHostCapacity, not retried", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"), { outOfCapacity: [instanceId(0)] });
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results[0]).toMatchObject({
      outcome: "failed",
      error: { code: "OutOfHostCapacity", status: 500 },
    });
    expect(fake.count("InstanceAction")).toBe(1);
  });

  it("409 IncorrectState → re-read, decide again with a fresh token", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"));
    // Someone else starts it between our read and our action: our START meets STARTING → fine (200 no-op)
    // so force the harder case: it is STOPPING when our START lands.
    const id = instanceId(0);
    const original = fake.instanceAction.bind(fake);
    let first = true;
    fake.instanceAction = async (...args) => {
      if (first) {
        first = false;
        fake.setState(id, "STOPPING", { to: "STOPPED", afterMs: 40 });
      }
      return original(...args);
    };
    const out = await run(powerRequest([id]), deps(fake));
    expect(out.results[0]).toMatchObject({ outcome: "changed", state_after: "RUNNING" });
    const actions = fake.calls.filter((c) => c.operation === "InstanceAction");
    expect(actions.map((c) => c.status)).toEqual([409, 200]);
    expect(actions[0]?.retryToken).not.toBe(actions[1]?.retryToken);
  });

  it("a random fault storm: every instance ends in the target state or failed with a reason", async () => {
    const fake = new FakeCompute(fleet(60, "STOPPED"), {
      errorFraction: 0.3,
      seed: 7,
      outOfCapacity: [instanceId(3)],
    });
    const ids = Array.from({ length: 60 }, (_, i) => instanceId(i));
    const out = await run(powerRequest(ids), deps(fake, { deadlineAt: Date.now() + 8000 }));
    expect(out.results.map((r) => r.instance_id)).toEqual(ids);
    for (const r of out.results) {
      if (r.outcome === "changed") expect(fake.state(r.target_id)).toBe("RUNNING");
      else expect(["failed", "in_progress"], JSON.stringify(r)).toContain(r.outcome);
    }
    expect(out.results.find((r) => r.instance_id === instanceId(3))).toMatchObject({
      outcome: "failed",
      error: { code: "OutOfHostCapacity" },
    });
    expectOneTransitionEach(fake, ids);
    // Tokens: all power actions on one instance that were not separated by a 409 share a token.
    for (const id of ids) {
      const tokens = new Set(
        fake.calls
          .filter((c) => c.instanceId === id && c.operation === "InstanceAction")
          .map((c) => c.retryToken),
      );
      expect(tokens.size, id).toBeLessThanOrEqual(1);
    }
  });
});

describe("runBatch: deadlines", () => {
  it("instances still moving at the deadline → in_progress", async () => {
    const fake = new FakeCompute(fleet(2, "STOPPED"), { durationsMs: { START: 5000 } });
    const started = Date.now();
    const out = await run(
      powerRequest([instanceId(0), instanceId(1)]),
      deps(fake, { deadlineAt: started + 300 }),
    );
    expect(out.results.map((r) => r.outcome)).toEqual(["in_progress", "in_progress"]);
    expect(out.results[0]).toMatchObject({ state_after: "STARTING" });
  });

  it("an action that could not be sent before the deadline → failed DeadlineExceeded", async () => {
    const fake = new FakeCompute(fleet(1, "RUNNING"));
    fake.setState(instanceId(0), "STOPPING", { to: "STOPPED", afterMs: 5000 });
    const out = await run(powerRequest([instanceId(0)]), deps(fake, { deadlineAt: Date.now() + 200 }));
    expect(out.results[0]).toMatchObject({
      outcome: "failed",
      state_after: "STOPPING",
      error: {
        code: "DeadlineExceeded",
        message: expect.stringMatching(/still STOPPING.*START was not sent/),
      },
    });
    expect(fake.count("InstanceAction")).toBe(0);
  });

  it("a read with no answer by the deadline → failed DeadlineExceeded", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"), { latencyMs: 2000 });
    const out = await run(powerRequest([instanceId(0)]), deps(fake, { deadlineAt: Date.now() + 300 }));
    expect(out.results).toHaveLength(1);
    expect(out.results[0]).toMatchObject({ outcome: "failed", error: { code: "DeadlineExceeded" } });
  });

  it("an action sent but unanswered at the deadline → in_progress with the reason, never lost", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"));
    const original = fake.instanceAction.bind(fake);
    fake.instanceAction = async (id, action, token, signal) => {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      return original(id, action, token, signal);
    };
    const out = await run(powerRequest([instanceId(0)]), deps(fake, { deadlineAt: Date.now() + 300 }));
    expect(out.results).toHaveLength(1);
    expect(out.results[0]).toMatchObject({ outcome: "in_progress", error: { code: expect.any(String) } });
  });

  it("a past deadline still answers for every target", async () => {
    const fake = new FakeCompute(fleet(5, "STOPPED"));
    const ids = Array.from({ length: 5 }, (_, i) => instanceId(i));
    const out = await run(powerRequest(ids), deps(fake, { deadlineAt: Date.now() }));
    expect(out.results).toHaveLength(5);
    for (const r of out.results)
      expect(r).toMatchObject({ outcome: "failed", error: { code: "DeadlineExceeded" } });
  });
});

describe("runBatch: batches and selection", () => {
  it("a batch of ids in two compartments is read with one GET + one list per compartment", async () => {
    const fake = new FakeCompute([...fleet(40, "STOPPED", COMP_A), ...fleet(40, "STOPPED", COMP_B, 40)]);
    const ids = Array.from({ length: 80 }, (_, i) => instanceId(i));
    const out = await run(powerRequest(ids), deps(fake));
    expectAll(out, "changed");
    // Resolution: one GET to learn each compartment, then one listing each.
    const reads = fake.calls.filter((c) => c.operation !== "InstanceAction").map((c) => c.operation);
    expect(reads.slice(0, 4)).toEqual(["GetInstance", "ListInstances", "GetInstance", "ListInstances"]);
    expect(fake.count("InstanceAction")).toBe(80);
    // Waiting used bulk listings, not one GET per instance per poll.
    const perInstance = fake.calls.length / 80;
    expect(perInstance).toBeLessThan(1.5);
  });

  it("ids scattered over many compartments fall back to individual GETs", async () => {
    const instances = Array.from({ length: 10 }, (_, i) => ({
      id: instanceId(i),
      compartmentId: `ocid1.compartment.oc1..c${i}`,
      lifecycleState: "RUNNING",
    }));
    const fake = new FakeCompute(instances);
    const out = await run(powerRequest(instances.map((i) => i.id)), deps(fake));
    expectAll(out, "unchanged");
    expect(fake.count("ListInstances")).toBe(1);
    expect(fake.count("GetInstance")).toBe(10);
  });

  it("compartment selection: tags must all match; TERMINATED left out; sub-compartments not included", async () => {
    const fake = new FakeCompute([
      {
        id: instanceId(0),
        compartmentId: COMP_A,
        lifecycleState: "STOPPED",
        freeformTags: { Schedule: "office", Team: "a" },
      },
      {
        id: instanceId(1),
        compartmentId: COMP_A,
        lifecycleState: "STOPPED",
        freeformTags: { Schedule: "never" },
      },
      {
        id: instanceId(2),
        compartmentId: COMP_A,
        lifecycleState: "STOPPED",
        freeformTags: { Schedule: "office" },
        definedTags: { Ops: { tier: "dev" } },
      },
      {
        id: instanceId(3),
        compartmentId: COMP_A,
        lifecycleState: "TERMINATED",
        freeformTags: { Schedule: "office" },
      },
      {
        id: instanceId(4),
        compartmentId: COMP_B,
        lifecycleState: "STOPPED",
        freeformTags: { Schedule: "office" },
      },
    ]);
    const targets: Targets = {
      kind: "compartment",
      compartmentId: COMP_A,
      freeformTags: { Schedule: "office" },
      definedTags: {},
    };
    const out = await run(powerRequest(targets), deps(fake));
    expect(out.results.map((r) => r.instance_id)).toEqual([instanceId(0), instanceId(2)]);
    const defined: Targets = { ...targets, definedTags: { Ops: { tier: "dev" } } };
    const out2 = await run(powerRequest(defined, { dryRun: true }), deps(fake));
    expect(out2.results.map((r) => r.instance_id)).toEqual([instanceId(2)]);
  });

  it("follows every page of a large compartment", async () => {
    const fake = new FakeCompute(fleet(25, "RUNNING"), { pageSize: 10 });
    const targets: Targets = {
      kind: "compartment",
      compartmentId: COMP_A,
      freeformTags: {},
      definedTags: {},
    };
    const out = await run(powerRequest(targets), deps(fake));
    expect(out.results).toHaveLength(25);
    expect(fake.count("ListInstances")).toBe(3);
  });

  it("a failing compartment listing is reported as fatal", async () => {
    const fake = new FakeCompute(fleet(2, "RUNNING"));
    fake.inject({ kind: "server", operation: "ListInstances", times: 100 });
    const targets: Targets = {
      kind: "compartment",
      compartmentId: COMP_A,
      freeformTags: {},
      definedTags: {},
    };
    const out = await run(powerRequest(targets), deps(fake, { deadlineAt: Date.now() + 1000 }));
    expect(out.fatal?.code).toBe("ServiceError");
    expect(out.results).toEqual([]);
  });

  it("guardrail: instances outside ALLOWED_COMPARTMENT_IDS are failed Forbidden and never acted on", async () => {
    const fake = new FakeCompute([...fleet(1, "STOPPED", COMP_A), ...fleet(1, "STOPPED", COMP_B, 1)]);
    const out = await run(
      powerRequest([instanceId(0), instanceId(1)]),
      deps(fake, { config: config({ allowedCompartmentIds: new Set([COMP_A]) }) }),
    );
    expect(out.results[0]).toMatchObject({ outcome: "changed" });
    expect(out.results[1]).toMatchObject({ outcome: "failed", error: { code: "Forbidden", status: 403 } });
    expect(fake.count("InstanceAction", instanceId(1))).toBe(0);
  });

  it("bounded concurrency: never more power actions in flight than configured", async () => {
    const fake = new FakeCompute(fleet(30, "STOPPED"), { latencyMs: 10 });
    let inFlight = 0;
    let peak = 0;
    const original = fake.instanceAction.bind(fake);
    fake.instanceAction = async (...args) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await original(...args);
      } finally {
        inFlight--;
      }
    };
    const ids = Array.from({ length: 30 }, (_, i) => instanceId(i));
    const out = await run(powerRequest(ids), deps(fake, { config: config({ maxConcurrency: 4 }) }));
    expectAll(out, "changed");
    expect(peak).toBeLessThanOrEqual(4);
  });

  it("a batch larger than the admission gate: sent in order, the rest written off at the deadline, all accounted", async () => {
    const n = 600;
    const fake = new FakeCompute(fleet(n, "STOPPED"), { latencyMs: 10 });
    const order: string[] = [];
    const original = fake.instanceAction.bind(fake);
    fake.instanceAction = async (id, ...rest) => {
      order.push(id);
      return await original(id, ...rest);
    };
    // Power actions handed to the scheduler and not yet answered: the gate keeps this bounded.
    let waitingAtScheduler = 0;
    let peakWaiting = 0;
    const realCall = CallScheduler.prototype.call;
    const call = vi.spyOn(CallScheduler.prototype, "call");
    call.mockImplementation(async function (this: CallScheduler, fn, options) {
      if (options.priority !== "normal") return await realCall.call(this, fn, options);
      peakWaiting = Math.max(peakWaiting, ++waitingAtScheduler);
      try {
        return await realCall.call(this, fn, options);
      } finally {
        waitingAtScheduler--;
      }
    });
    const ids = Array.from({ length: n }, (_, i) => instanceId(i));
    const out = await run(
      powerRequest(ids, { wait: false }),
      deps(fake, { config: config({ maxConcurrency: 1 }), deadlineAt: Date.now() + 1500 }),
    );
    call.mockRestore();
    // Admitted and not yet sent (the gate's bound), plus the one in flight (maxConcurrency 1).
    expect(peakWaiting).toBeLessThanOrEqual(ADMIT_AHEAD.min + 1);
    expect(peakWaiting).toBeGreaterThan(10);
    expect(out.results).toHaveLength(n);
    const sent = new Set(order);
    // Far fewer than n went out (one at a time, 10 ms each), in request order, each once.
    expect(order.length).toBeGreaterThan(10);
    expect(order.length).toBeLessThan(n);
    expect(order).toEqual(ids.slice(0, order.length));
    for (const r of out.results) {
      if (sent.has(r.target_id)) expect(r.outcome, r.target_id).toBe("in_progress");
      else
        expect(r, r.target_id).toMatchObject({
          outcome: "failed",
          error: { code: "DeadlineExceeded", message: expect.stringContaining("could be sent") },
        });
    }
  });

  it("time spent queued behind the pacing does not count against a request's timeout", async () => {
    const fake = new FakeCompute(fleet(12, "STOPPED"));
    const ids = Array.from({ length: 12 }, (_, i) => instanceId(i));
    const tuning = { ...FAST, retry: { ...FAST.retry, requestTimeoutMs: 40, maxAttempts: 1 } } as typeof FAST;
    const out = await run(powerRequest(ids), deps(fake, { config: config({ maxRate: 40 }), tuning }));
    expectAll(out, "changed");
    expect(fake.count("InstanceAction")).toBe(12);
  });

  it("polling learns how long transitions take: a second batch reads states less often", async () => {
    const tuning = { ...FAST, watch: { ...FAST.watch, slowPollMs: 400 } } as typeof FAST;
    const first = new FakeCompute(fleet(1, "STOPPED"), { durationsMs: { START: 300 } });
    await run(powerRequest([instanceId(0)]), deps(first, { tuning }));
    const second = new FakeCompute(fleet(1, "STOPPED"), { durationsMs: { START: 300 } });
    const out = await run(powerRequest([instanceId(0)]), deps(second, { tuning }));
    expect(out.results[0]).toMatchObject({ outcome: "changed" });
    expect(second.count("GetInstance")).toBeLessThan(first.count("GetInstance"));
  });

  it("few waiters are polled one by one, many with one listing per compartment", async () => {
    const few = new FakeCompute(fleet(2, "STOPPED"));
    await run(powerRequest([instanceId(0), instanceId(1)]), deps(few));
    expect(few.count("ListInstances")).toBe(0);
    const many = new FakeCompute(fleet(30, "STOPPED"), { durationsMs: { START: 200 } });
    await run(powerRequest(Array.from({ length: 30 }, (_, i) => instanceId(i))), deps(many));
    expect(many.count("ListInstances")).toBeGreaterThan(1);
    expect(many.count("GetInstance")).toBeLessThan(10);
  });

  it("a held transition is waited out, then reported changed", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"), { hold: { instanceIds: [instanceId(0)], ms: 150 } });
    const out = await run(powerRequest([instanceId(0)]), deps(fake));
    expect(out.results[0]).toMatchObject({ outcome: "changed" });
  });

  it("an action whose instance ends in the wrong state is failed UnexpectedState", async () => {
    const fake = new FakeCompute(fleet(1, "STOPPED"));
    const id = instanceId(0);
    const original = fake.instanceAction.bind(fake);
    fake.instanceAction = async (...args) => {
      const v = await original(...args);
      fake.setState(id, "STARTING", { to: "STOPPED", afterMs: 30 });
      return v;
    };
    const out = await run(powerRequest([id]), deps(fake, { tuning: { ...FAST, staleGraceMs: 0 } }));
    expect(out.results[0]).toMatchObject({ outcome: "failed", error: { code: "UnexpectedState" } });
    expect(fake.count("InstanceAction")).toBe(1);
  });
});

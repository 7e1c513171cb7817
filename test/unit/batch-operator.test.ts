/**
 * The batch with operator controls wired in (issue 12): a reason on every result, power-override
 * tags decided from the views already read, billing-aware stops through the call scheduler within
 * the deadline. In-memory fakes behind the same ports as the OCI adapter; fake timers, no sleeps.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type BatchDeps, type BatchOutcome, runBatch } from "../../src/batch.js";
import { systemClock } from "../../src/clock.js";
import { type FunctionConfig, readConfig } from "../../src/config.js";
import { makeHandler } from "../../src/handler.js";
import { createLogger } from "../../src/log.js";
import type { PowerRequest, Targets } from "../../src/request.js";
import { batchResponse } from "../../src/response.js";
import { ShapeCatalogueCache } from "../../src/shapes.js";
import { resetLearnedDurations } from "../../src/watch.js";
import {
  COMP_A,
  config,
  FAST,
  instanceId,
  onFakeTime,
  powerRequest,
  quietLogger,
} from "../helpers/batch-fixtures.js";
import { FakeCompute, type FakeInstance } from "../helpers/fake-compute.js";
import { FakeShapes } from "../helpers/fake-shapes.js";
import { fnContext } from "../helpers/fn-context.js";

const CATALOGUE = [
  { shape: "VM.Standard.E4.Flex", isBilledForStoppedInstance: false },
  { shape: "VM.DenseIO2.8", isBilledForStoppedInstance: true },
  { shape: "VM.GPU.A10.1", isBilledForStoppedInstance: true },
];

type LogRecord = Record<string, unknown>;

interface World {
  fake: FakeCompute;
  shapes: FakeShapes;
  lines: LogRecord[];
  deps: (overrides?: Partial<BatchDeps>, cfg?: Partial<FunctionConfig>) => BatchDeps;
}

function world(instances: FakeInstance[]): World {
  const fake = new FakeCompute(instances);
  const shapes = new FakeShapes(CATALOGUE);
  const cache = new ShapeCatalogueCache(shapes, systemClock);
  const lines: LogRecord[] = [];
  const logger = createLogger({ sink: (_stream, line) => lines.push(JSON.parse(line) as LogRecord) });
  return {
    fake,
    shapes,
    lines,
    deps: (overrides = {}, cfg = {}) => {
      const now = Date.now();
      return {
        compute: fake,
        config: config(cfg),
        logger,
        deadlineAt: now + 5000,
        startedAt: now,
        tuning: FAST,
        shapes: { cache, port: shapes },
        ...overrides,
      };
    },
  };
}

function one(state: string, extra: Partial<FakeInstance> = {}, n = 0): FakeInstance {
  return { id: instanceId(n), compartmentId: COMP_A, lifecycleState: state, ...extra };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date("2026-12-01T12:00:00Z"));
  resetLearnedDurations();
});
afterEach(() => {
  vi.useRealTimers();
});

function run(req: PowerRequest, d: BatchDeps): Promise<BatchOutcome> {
  return onFakeTime(runBatch(req, d));
}

describe("a reason on every result", () => {
  it.each([
    ["START", "STOPPED", false, "changed", "sent START"],
    ["START", "RUNNING", false, "unchanged", "already RUNNING"],
    ["SOFTSTOP", "STOPPED", false, "unchanged", "already STOPPED"],
    ["START", "STOPPED", true, "planned", "STOPPED; would send START"],
    ["START", "STARTING", true, "unchanged", "already STARTING (on its way to RUNNING); nothing to send"],
    ["START", "TERMINATED", false, "failed", "instance is TERMINATED; it cannot be started"],
  ] as const)("%s on %s (dry run %s) → %s, reason %j", async (action, state, dryRun, outcome, reason) => {
    const w = world([one(state)]);
    const out = await run(powerRequest([instanceId(0)], { action, dryRun }), w.deps());
    expect(out.results).toEqual([expect.objectContaining({ outcome, reason })]);
    expect(w.lines).toContainEqual(
      expect.objectContaining({ msg: "instance outcome", instance_id: instanceId(0), reason }),
    );
  });

  it("was STOPPING; waited for STOPPED, then sent START", async () => {
    const w = world([one("RUNNING")]);
    w.fake.setState(instanceId(0), "STOPPING", { to: "STOPPED", afterMs: 60 });
    const out = await run(powerRequest([instanceId(0)]), w.deps());
    expect(out.results).toEqual([
      expect.objectContaining({
        outcome: "changed",
        reason: "was STOPPING; waited for STOPPED, then sent START",
      }),
    ]);
  });

  it("wait=false → in_progress with the reason saying it did not wait", async () => {
    const w = world([one("STOPPED")]);
    const out = await run(powerRequest([instanceId(0)], { wait: false }), w.deps());
    expect(out.results).toEqual([
      expect.objectContaining({ outcome: "in_progress", reason: "sent START; not waiting (wait=false)" }),
    ]);
  });

  it("still changing at the deadline → in_progress, and the reason says what it last saw", async () => {
    const w = world([one("STOPPED")]);
    const slow = new FakeCompute([one("STOPPED")], { durationsMs: { START: 60_000 } });
    const d = w.deps({ compute: slow });
    const out = await run(powerRequest([instanceId(0)]), { ...d, deadlineAt: d.startedAt + 2000 });
    expect(out.results).toEqual([
      expect.objectContaining({
        outcome: "in_progress",
        reason: "sent START; still STARTING at the deadline",
      }),
    ]);
  });

  it("an instance OCI never answers for is written off with a reason naming the deadline", async () => {
    const w = world([one("STOPPED")]);
    const mute = new FakeCompute([one("STOPPED")], { latencyMs: 60_000 });
    const d = w.deps({ compute: mute });
    const out = await run(powerRequest([instanceId(0)]), { ...d, deadlineAt: d.startedAt + 500 });
    expect(out.results).toEqual([
      expect.objectContaining({ outcome: "failed", reason: expect.stringMatching(/deadline/) }),
    ]);
  });
});

describe("overrides in the per-target decision", () => {
  it.each([
    ["START", "skip", "skipped: power-override=skip"],
    ["SOFTSTOP", "skip", "skipped: power-override=skip"],
    [
      "SOFTSTOP",
      "keep-running-until=2026-12-01T22:00:00Z",
      "skipped: keep-running-until 2026-12-01T22:00:00Z",
    ],
    [
      "START",
      "keep-stopped-until=2026-12-02T08:00:00+01:00",
      "skipped: keep-stopped-until 2026-12-02T07:00:00Z",
    ],
  ] as const)("%s with power-override=%s → skipped, ok, no action", async (action, value, reason) => {
    const state = action === "START" ? "STOPPED" : "RUNNING";
    const w = world([one(state, { freeformTags: { "power-override": value } })]);
    const out = await run(powerRequest([instanceId(0)], { action }), w.deps());
    expect(out.results).toEqual([expect.objectContaining({ outcome: "skipped", reason })]);
    expect(w.fake.count("InstanceAction")).toBe(0);
    const built = batchResponse(action, false, out.results);
    expect(built.body).toMatchObject({ ok: true, summary: { skipped: 1, failed: 0 } });
    expect(built.body.message).toMatch(/1 skipped/);
  });

  it("reads the override from the views already fetched: no extra API call", async () => {
    const tagged = one("STOPPED", { freeformTags: { "power-override": "skip" } });
    const plain = one("STOPPED", {}, 1);
    const w = world([tagged, plain]);
    const out = await run(powerRequest([instanceId(0), instanceId(1)]), w.deps());
    expect(out.results.map((r) => r.outcome)).toEqual(["skipped", "changed"]);
    expect(w.fake.count("GetInstance", instanceId(0))).toBe(1);
    expect(w.fake.count("InstanceAction", instanceId(0))).toBe(0);
  });

  it("an expired override no longer holds and the reason says so", async () => {
    const w = world([
      one("RUNNING", { freeformTags: { "power-override": "keep-running-until=2026-12-01T11:00:00Z" } }),
    ]);
    const out = await run(powerRequest([instanceId(0)], { action: "SOFTSTOP" }), w.deps());
    expect(out.results).toEqual([
      expect.objectContaining({
        outcome: "changed",
        reason: "override expired at 2026-12-01T11:00:00Z; sent SOFTSTOP",
      }),
    ]);
  });

  it("a malformed override → failed InvalidOverride, no power action, ok false", async () => {
    const w = world([one("STOPPED", { freeformTags: { "power-override": "keep-running-till tonight" } })]);
    const out = await run(powerRequest([instanceId(0)]), w.deps());
    expect(out.results).toEqual([
      expect.objectContaining({
        outcome: "failed",
        reason: "invalid override; no power action",
        error: expect.objectContaining({
          code: "InvalidOverride",
          message: expect.stringContaining('"keep-running-till tonight"'),
        }),
      }),
    ]);
    expect(w.fake.count("InstanceAction")).toBe(0);
    expect(batchResponse("START", false, out.results).body.ok).toBe(false);
  });

  it("ignore_overrides acts anyway and the reason says the override was ignored", async () => {
    const w = world([one("STOPPED", { freeformTags: { "power-override": "skip" } })]);
    const out = await run(powerRequest([instanceId(0)], { ignoreOverrides: true }), w.deps());
    expect(out.results).toEqual([
      expect.objectContaining({
        outcome: "changed",
        reason: "override power-override=skip ignored (ignore_overrides); sent START",
      }),
    ]);
  });

  it("a dry run reports what would be skipped", async () => {
    const w = world([one("STOPPED", { freeformTags: { "power-override": "skip" } }), one("STOPPED", {}, 1)]);
    const out = await run(powerRequest([instanceId(0), instanceId(1)], { dryRun: true }), w.deps());
    expect(out.results.map((r) => [r.outcome, r.reason])).toEqual([
      ["skipped", "skipped: power-override=skip"],
      ["planned", "STOPPED; would send START"],
    ]);
    expect(w.fake.count("InstanceAction")).toBe(0);
  });

  it("a compartment (tag-selected) request applies overrides too", async () => {
    const w = world([
      one("STOPPED", { freeformTags: { env: "dev", "power-override": "skip" } }),
      one("STOPPED", { freeformTags: { env: "dev" } }, 1),
    ]);
    const targets: Targets = {
      kind: "compartment",
      compartmentId: COMP_A,
      freeformTags: { env: "dev" },
      definedTags: {},
    };
    const out = await run(powerRequest(targets), w.deps());
    const byId = Object.fromEntries(out.results.map((r) => [r.instance_id, r.outcome]));
    expect(byId).toEqual({ [instanceId(0)]: "skipped", [instanceId(1)]: "changed" });
  });

  it("OVERRIDE_TAG_KEY from the config is the key read", async () => {
    const w = world([one("STOPPED", { freeformTags: { hold: "skip" } })]);
    const cfg = readConfig({ OVERRIDE_TAG_KEY: "hold" });
    const out = await run(powerRequest([instanceId(0)]), w.deps({}, cfg));
    expect(out.results).toEqual([
      expect.objectContaining({ outcome: "skipped", reason: "skipped: hold=skip" }),
    ]);
  });
});

describe("billing-aware stops", () => {
  const stop = (ids: string[], o: Partial<PowerRequest> = {}) =>
    powerRequest(ids, { action: "SOFTSTOP", ...o });

  it("flags billed shapes, counts and names them; one ListShapes per compartment", async () => {
    const w = world([
      one("RUNNING", { shape: "VM.Standard.E4.Flex", displayName: "web" }, 0),
      one("RUNNING", { shape: "VM.DenseIO2.8", displayName: "db" }, 1),
      one("RUNNING", { shape: "VM.GPU.A10.1", displayName: "gpu" }, 2),
      one("STOPPED", { shape: "VM.GPU.A10.1", displayName: "idle" }, 3),
    ]);
    const ids = [0, 1, 2, 3].map((n) => instanceId(n));
    const out = await run(stop(ids), w.deps());
    expect(out.results.map((r) => [r.outcome, r.billed_while_stopped])).toEqual([
      ["changed", false],
      ["changed", true],
      ["changed", true],
      ["unchanged", undefined],
    ]);
    expect(out.results[1]?.reason).toBe("sent SOFTSTOP; shape VM.DenseIO2.8 keeps billing while stopped");
    expect(w.shapes.calls).toEqual([COMP_A]);
    const body = batchResponse("SOFTSTOP", false, out.results).body;
    expect(body.summary?.billed_while_stopped).toBe(2);
    expect(body.message).toMatch(/2 still billed while stopped \(shape\): db, gpu$/);
    expect(body.ok).toBe(true);
  });

  it("BILLED_WHEN_STOPPED=skip → billed shapes skipped with the reason, others stopped", async () => {
    const w = world([
      one("RUNNING", { shape: "VM.Standard.E4.Flex" }, 0),
      one("RUNNING", { shape: "VM.DenseIO2.8" }, 1),
    ]);
    const cfg = readConfig({ BILLED_WHEN_STOPPED: "skip" });
    const out = await run(stop([instanceId(0), instanceId(1)]), w.deps({}, cfg));
    expect(out.results.map((r) => [r.outcome, r.billed_while_stopped, r.reason])).toEqual([
      ["changed", false, "sent SOFTSTOP"],
      [
        "skipped",
        true,
        "skipped: shape VM.DenseIO2.8 keeps billing while stopped (BILLED_WHEN_STOPPED=skip)",
      ],
    ]);
    expect(w.fake.count("InstanceAction", instanceId(1))).toBe(0);
  });

  it("a dry run shows billing too", async () => {
    const w = world([one("RUNNING", { shape: "VM.GPU.A10.1" })]);
    const out = await run(stop([instanceId(0)], { dryRun: true }), w.deps());
    expect(out.results).toEqual([
      expect.objectContaining({
        outcome: "planned",
        billed_while_stopped: true,
        reason: "RUNNING; would send SOFTSTOP; shape VM.GPU.A10.1 keeps billing while stopped",
      }),
    ]);
  });

  it("shapes unreadable → the stop still happens, null, one log line", async () => {
    const w = world([
      one("RUNNING", { shape: "VM.GPU.A10.1" }, 0),
      one("RUNNING", { shape: "VM.Standard.E4.Flex" }, 1),
    ]);
    w.shapes.failWith = { code: "NotAuthorizedOrNotFound", message: "not allowed" };
    const out = await run(stop([instanceId(0), instanceId(1)]), w.deps());
    expect(out.results.map((r) => [r.outcome, r.billed_while_stopped])).toEqual([
      ["changed", null],
      ["changed", null],
    ]);
    const warnings = w.lines.filter(
      (l) => l.msg === "shapes unreadable; stopping without billing information",
    );
    expect(warnings).toEqual([expect.objectContaining({ compartment_id: COMP_A })]);
  });

  it("a ListShapes that never answers cannot hold the stop past the deadline", async () => {
    const w = world([one("RUNNING", { shape: "VM.GPU.A10.1" })]);
    w.shapes.hold = true;
    const d = w.deps();
    const out = await run(stop([instanceId(0)]), { ...d, deadlineAt: d.startedAt + 3000 });
    expect(out.results).toEqual([
      expect.objectContaining({ outcome: "changed", billed_while_stopped: null }),
    ]);
    expect(w.fake.count("InstanceAction")).toBe(1);
  });

  it("start-compute never lists shapes and its results carry no billed_while_stopped", async () => {
    const w = world([one("STOPPED", { shape: "VM.GPU.A10.1" })]);
    const out = await run(powerRequest([instanceId(0)]), w.deps());
    expect(out.results[0]).not.toHaveProperty("billed_while_stopped");
    expect(w.shapes.calls).toEqual([]);
  });

  it("without a shapes port the stop reports null", async () => {
    const w = world([one("RUNNING", { shape: "VM.GPU.A10.1" })]);
    const { shapes: _omit, ...d } = w.deps();
    const out = await run(stop([instanceId(0)]), { ...d, logger: quietLogger });
    expect(out.results).toEqual([
      expect.objectContaining({ outcome: "changed", billed_while_stopped: null }),
    ]);
  });
});

describe("the handler keeps one shape catalogue per process", () => {
  it("ListShapes once per compartment across invocations, again after an hour on the injected clock", async () => {
    const fake = new FakeCompute([
      one("RUNNING", { shape: "VM.DenseIO2.8" }, 0),
      one("RUNNING", { shape: "VM.DenseIO2.8" }, 1),
      one("RUNNING", { shape: "VM.DenseIO2.8" }, 2),
    ]);
    const shapes = new FakeShapes(CATALOGUE);
    // The OCI adapter is one object with both ports; so is this fake.
    const port = Object.assign(fake, { listShapes: (c: string) => shapes.listShapes(c) });
    const handler = makeHandler("STOP", {
      createCompute: async () => port,
      tuning: FAST,
      logSink: () => {},
      clock: systemClock,
    });
    const stopOne = async (n: number) => {
      const answer = handler(JSON.stringify({ instance_id: instanceId(n) }), fnContext());
      await vi.runAllTimersAsync();
      return answer;
    };
    const first = await stopOne(0);
    expect(first).toMatchObject({
      summary: { billed_while_stopped: 1 },
      results: [{ outcome: "changed", billed_while_stopped: true }],
    });
    await stopOne(1);
    expect(shapes.calls).toEqual([COMP_A]);
    vi.setSystemTime(Date.now() + 3_600_001);
    await stopOne(2);
    expect(shapes.calls).toEqual([COMP_A, COMP_A]);
  });
});

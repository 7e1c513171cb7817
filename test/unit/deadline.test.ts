import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../src/clock.js";
import type { InstanceView } from "../../src/compute.js";
import {
  ANSWER_MARGIN_MS,
  answerByTime,
  Deadline,
  type Phase,
  TIMER_SLACK_MS,
  writeOffVerdict,
} from "../../src/deadline.js";
import { PowerError } from "../../src/errors.js";
import { Guardrail } from "../../src/guardrail.js";
import { COMP_A, COMP_B, instanceId } from "../helpers/batch-fixtures.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("Deadline", () => {
  it("owns the request timeout, the retry cut-off and the timer-rounding slack", () => {
    const t0 = Date.now();
    const d = new Deadline(systemClock, t0 + 1000);
    expect(d.requestTimeout(20_000)).toBe(1000);
    expect(d.requestTimeout(300)).toBe(300);
    expect(d.leavesNoTimeFor(999)).toBe(false);
    expect(d.leavesNoTimeFor(1000)).toBe(true);
    vi.setSystemTime(t0 + 1000 - TIMER_SLACK_MS - 1);
    expect(d.cutOff()).toBe(false);
    vi.setSystemTime(t0 + 1000 - TIMER_SLACK_MS);
    expect(d.cutOff()).toBe(true);
    expect(d.passed()).toBe(false);
    vi.setSystemTime(t0 + 2000);
    expect(d.passed()).toBe(true);
    expect(d.requestTimeout(20_000)).toBe(1);
  });

  it("fires at the deadline, resolves at the answer-by time, and dispose cancels both", async () => {
    const t0 = Date.now();
    const d = Deadline.forBatch(systemClock, t0 + 100, 50);
    expect(d.answerBy).toBe(t0 + 150);
    const fired: number[] = [];
    d.onDeadline(() => fired.push(Date.now() - t0));
    const answer = d.answerByReached().then(() => fired.push(Date.now() - t0));
    await vi.advanceTimersByTimeAsync(200);
    await answer;
    expect(fired).toEqual([100, 150]);
    const later = Deadline.forBatch(systemClock, Date.now() + 100, 50);
    later.onDeadline(() => fired.push(-1));
    later.dispose();
    await vi.advanceTimersByTimeAsync(500);
    expect(fired).toEqual([100, 150]);
  });

  it("the caller's answer-by time wins when it is sooner than deadline + safety", () => {
    expect(Deadline.forBatch(systemClock, 1000, 400, 1200).answerBy).toBe(1200);
    expect(Deadline.forBatch(systemClock, 1000, 400, 9000).answerBy).toBe(1400);
  });

  it.each<[string, number, number, number]>([
    ["a full margin when the hard deadline is far", 10_000, 20_000, 10_000 + ANSWER_MARGIN_MS],
    ["half the gap when it is close", 10_000, 10_300, 10_150],
    ["never before the deadline", 10_000, 9_000, 10_000],
  ])("answerByTime: %s", (_name, deadlineAt, hard, expected) => {
    expect(answerByTime(deadlineAt, hard)).toBe(expected);
  });
});

describe("writeOffVerdict", () => {
  it.each<[Phase, string, string | undefined]>([
    ["resolving", "failed", "could not be read before the deadline"],
    ["deciding", "failed", "the deadline came before START could be sent"],
    ["settling", "failed", "the deadline came before START could be sent"],
    ["queued", "failed", "the deadline came before START could be sent"],
    ["sent", "in_progress", "START was sent but no answer came before the deadline"],
    ["waiting", "in_progress", undefined],
    ["done", "in_progress", undefined],
  ])("%s → %s", (phase, outcome, message) => {
    const verdict = writeOffVerdict(phase, "START");
    expect(verdict.outcome).toBe(outcome);
    if (message)
      expect(verdict.error).toMatchObject({
        code: "DeadlineExceeded",
        message: expect.stringContaining(message),
      });
    else expect(verdict.error).toBeUndefined();
  });

  it("a crash fails what was not sent, with the crash as the reason; sent work stays in_progress", () => {
    const crash = new PowerError("InternalError", "the batch failed: boom");
    expect(writeOffVerdict("queued", "STOP", crash)).toEqual({ outcome: "failed", error: crash });
    expect(writeOffVerdict("sent", "STOP", crash).outcome).toBe("in_progress");
    expect(writeOffVerdict("waiting", "STOP", crash)).toEqual({ outcome: "in_progress" });
  });
});

describe("Guardrail", () => {
  const view = (compartmentId: string): InstanceView => ({
    id: instanceId(0),
    compartmentId,
    displayName: "vm",
    lifecycleState: "STOPPED",
    freeformTags: {},
    definedTags: {},
  });

  it("without ALLOWED_COMPARTMENT_IDS everything is allowed", () => {
    const g = new Guardrail(undefined);
    expect(g.allows(COMP_B)).toBe(true);
    expect(g.refuseCompartment(COMP_B)).toBeUndefined();
    expect(g.refuseInstance(view(COMP_B))).toBeUndefined();
  });

  it("refuses a compartment or an instance outside the list, naming it and the setting", () => {
    const g = new Guardrail(new Set([COMP_A]));
    expect(g.allows(COMP_A)).toBe(true);
    expect(g.allows(COMP_B)).toBe(false);
    expect(g.refuseCompartment(COMP_B)?.toJSON()).toEqual({
      code: "Forbidden",
      status: 403,
      message: `compartment ${COMP_B} is not in ALLOWED_COMPARTMENT_IDS; nothing was touched`,
    });
    expect(g.refuseInstance(view(COMP_B))?.message).toBe(
      `instance is in compartment ${COMP_B}, which is not in ALLOWED_COMPARTMENT_IDS; it was not touched`,
    );
    expect(g.refuseInstance(view(COMP_A))).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import type { PowerAction } from "../../src/compute.js";
import { decide, targetState, waitVerdict } from "../../src/power.js";

describe("decide", () => {
  it.each<[PowerAction, string, string]>([
    ["START", "STOPPED", "act"],
    ["START", "RUNNING", "unchanged"],
    ["START", "STARTING", "wait"],
    ["START", "PROVISIONING", "wait"],
    ["START", "STOPPING", "settle"],
    ["START", "MOVING", "settle"],
    ["START", "CREATING_IMAGE", "settle"],
    ["START", "TERMINATED", "fail"],
    ["START", "TERMINATING", "fail"],
    ["STOP", "RUNNING", "act"],
    ["STOP", "STOPPED", "unchanged"],
    ["STOP", "STOPPING", "wait"],
    ["STOP", "STARTING", "settle"],
    ["STOP", "PROVISIONING", "settle"],
    ["SOFTSTOP", "RUNNING", "act"],
    ["SOFTSTOP", "STOPPED", "unchanged"],
    ["SOFTSTOP", "STOPPING", "wait"],
    ["SOFTSTOP", "TERMINATED", "fail"],
    ["START", "SOMETHING_NEW", "fail"],
  ])("%s on %s → %s", (action, state, kind) => {
    expect(decide(action, state).kind).toBe(kind);
  });

  it("names the terminal state and uses InstanceTerminated", () => {
    expect(decide("START", "TERMINATED")).toEqual({
      kind: "fail",
      code: "InstanceTerminated",
      message: "instance is TERMINATED; it cannot be started",
    });
    expect(decide("STOP", "SOMETHING_NEW")).toMatchObject({ kind: "fail", code: "UnexpectedState" });
  });
});

describe("waitVerdict", () => {
  it.each<[PowerAction, string, string]>([
    ["START", "RUNNING", "done"],
    ["START", "STARTING", "keep"],
    ["START", "STOPPED", "fail"],
    ["START", "TERMINATED", "fail"],
    ["SOFTSTOP", "STOPPED", "done"],
    ["STOP", "STOPPING", "keep"],
    ["STOP", "RUNNING", "fail"],
  ])("%s waiting, sees %s → %s", (action, state, verdict) => {
    expect(waitVerdict(action, state)).toBe(verdict);
  });

  it("maps actions to target states", () => {
    expect(targetState("START")).toBe("RUNNING");
    expect(targetState("STOP")).toBe("STOPPED");
    expect(targetState("SOFTSTOP")).toBe("STOPPED");
  });
});
